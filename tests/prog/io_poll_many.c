/* poll on 1,000 fds (socketpairs), blocking in one thread while another
 * makes exactly one of them readable: poll returns 1 with exactly that
 * revents; then timeouts: poll on 1,000 quiet fds for 100 ms returns 0
 * after >= 100 ms, poll(NULL, 0, 100) sleeps >= 100 ms, and ppoll with a
 * timespec likewise. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define NFD 1000
#define CHECK(c)                                                               \
	do {                                                                   \
		if (!(c)) {                                                    \
			fprintf(stderr, "%s:%d: check failed: %s (errno %d)\n", \
				__FILE__, __LINE__, #c, errno);                \
			exit(1);                                               \
		}                                                              \
	} while (0)

static int rd[NFD], wr[NFD];
static struct pollfd pf[NFD];

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *poker(void *a)
{
	usleep(50000);
	CHECK(write(wr[(long)a], "x", 1) == 1);
	return NULL;
}

int main(void)
{
	for (int i = 0; i < NFD; i++) {
		int sv[2];
		CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
		rd[i] = sv[0];
		wr[i] = sv[1];
		pf[i] = (struct pollfd){.fd = rd[i], .events = POLLIN};
	}
	for (long k = 0; k < 3; k++) {
		long which = (k * 389 + 737) % NFD;
		pthread_t t;
		CHECK(pthread_create(&t, NULL, poker, (void *)which) == 0);
		int r = poll(pf, NFD, 5000);
		CHECK(r == 1);
		for (int i = 0; i < NFD; i++)
			CHECK(pf[i].revents == (i == which ? POLLIN : 0));
		char c;
		CHECK(read(rd[which], &c, 1) == 1);
		pthread_join(t, NULL);
	}
	double t0 = now();
	CHECK(poll(pf, NFD, 100) == 0);
	CHECK(now() - t0 >= 0.1 && now() - t0 < 1.5);
	t0 = now();
	CHECK(poll(NULL, 0, 100) == 0);
	CHECK(now() - t0 >= 0.1 && now() - t0 < 1.5);
	struct timespec ts = {0, 100000000};
	t0 = now();
	CHECK(ppoll(pf, NFD, &ts, NULL) == 0);
	CHECK(now() - t0 >= 0.1 && now() - t0 < 1.5);
	/* writability, POLLHUP after the peer closes, POLLNVAL */
	struct pollfd w = {.fd = wr[0], .events = POLLOUT};
	CHECK(poll(&w, 1, -1) == 1 && w.revents == POLLOUT);
	close(wr[1]);
	struct pollfd h = {.fd = rd[1], .events = POLLIN};
	CHECK(poll(&h, 1, -1) == 1 && (h.revents & (POLLIN | POLLHUP)));
	close(rd[2]);
	struct pollfd n = {.fd = rd[2], .events = POLLIN};
	CHECK(poll(&n, 1, -1) == 1 && n.revents == POLLNVAL);
	printf("io_poll_many: ok\n");
	return 0;
}
