/* Socket timeouts: SO_RCVTIMEO on read/recv/accept and SO_SNDTIMEO on a
 * full socket end with EAGAIN no sooner than the timeout (and not much
 * later); a blocking connect to a listener whose backlog is full (SYNs are
 * dropped, loopback only) ends with EINPROGRESS after SO_SNDTIMEO, as
 * Linux does; poll on such a non-blocking connect times out with 0; a
 * connect to a closed port gives ECONNREFUSED. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CHECK(c)                                                               \
	do {                                                                   \
		if (!(c)) {                                                    \
			fprintf(stderr, "%s:%d: check failed: %s (errno %d)\n", \
				__FILE__, __LINE__, #c, errno);                \
			exit(1);                                               \
		}                                                              \
	} while (0)

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void set_tmo(int fd, int opt, int ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
	CHECK(setsockopt(fd, SOL_SOCKET, opt, &tv, sizeof tv) == 0);
}

/* elapsed in [lo, lo + 1.5 s) */
#define CHECK_TIME(t0, lo) CHECK(now() - (t0) >= (lo) && now() - (t0) < (lo) + 1.5)

static int listener(struct sockaddr_in *a, int backlog)
{
	int l = socket(AF_INET, SOCK_STREAM, 0);
	a->sin_family = AF_INET;
	a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a->sin_port = 0;
	socklen_t len = sizeof *a;
	CHECK(bind(l, (void *)a, sizeof *a) == 0 && listen(l, backlog) == 0);
	CHECK(getsockname(l, (void *)a, &len) == 0);
	return l;
}

int main(void)
{
	int sv[2];
	char buf[65536];
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	set_tmo(sv[0], SO_RCVTIMEO, 200);
	double t0 = now();
	CHECK(read(sv[0], buf, 10) == -1 && errno == EAGAIN);
	CHECK_TIME(t0, 0.2);
	t0 = now();
	CHECK(recv(sv[0], buf, 10, 0) == -1 && errno == EWOULDBLOCK);
	CHECK_TIME(t0, 0.2);
	/* data arriving before the timeout is returned */
	CHECK(write(sv[1], "abc", 3) == 3);
	CHECK(read(sv[0], buf, 10) == 3);

	/* SO_SNDTIMEO on a full socket: fill it, then a blocking send */
	set_tmo(sv[1], SO_SNDTIMEO, 200);
	int fl = fcntl(sv[1], F_GETFL);
	CHECK(fcntl(sv[1], F_SETFL, fl | O_NONBLOCK) == 0);
	while (send(sv[1], buf, sizeof buf, 0) > 0)
		;
	CHECK(errno == EAGAIN && fcntl(sv[1], F_SETFL, fl) == 0);
	t0 = now();
	CHECK(send(sv[1], buf, sizeof buf, 0) == -1 && errno == EAGAIN);
	CHECK_TIME(t0, 0.2);

	/* accept with SO_RCVTIMEO */
	struct sockaddr_in a;
	int l = listener(&a, 0);
	set_tmo(l, SO_RCVTIMEO, 200);
	t0 = now();
	CHECK(accept(l, NULL, NULL) == -1 && errno == EAGAIN);
	CHECK_TIME(t0, 0.2);

	/* Fill the backlog (0 -> one queued connection), then connects hang. */
	int c1 = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(connect(c1, (void *)&a, sizeof a) == 0);
	int c2 = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	CHECK(connect(c2, (void *)&a, sizeof a) == -1 && errno == EINPROGRESS);
	struct pollfd p = {c2, POLLOUT, 0};
	t0 = now();
	CHECK(poll(&p, 1, 300) == 0 && p.revents == 0);
	CHECK_TIME(t0, 0.3);
	int c3 = socket(AF_INET, SOCK_STREAM, 0);
	set_tmo(c3, SO_SNDTIMEO, 300);
	t0 = now();
	CHECK(connect(c3, (void *)&a, sizeof a) == -1 && errno == EINPROGRESS);
	CHECK_TIME(t0, 0.3);
	close(c1);
	close(c2);
	close(c3);
	close(l);

	/* closed port: ECONNREFUSED, blocking and via poll + SO_ERROR */
	l = listener(&a, 1);
	close(l);
	int c = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(connect(c, (void *)&a, sizeof a) == -1 && errno == ECONNREFUSED);
	close(c);
	c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	int r = connect(c, (void *)&a, sizeof a);
	CHECK(r == -1 && (errno == EINPROGRESS || errno == ECONNREFUSED));
	if (errno == EINPROGRESS) {
		struct pollfd q = {c, POLLOUT, 0};
		CHECK(poll(&q, 1, 2000) == 1);
		int err = 0;
		socklen_t el = sizeof err;
		CHECK(getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &el) == 0);
		CHECK(err == ECONNREFUSED);
	}
	printf("net_timeouts: ok\n");
	return 0;
}
