/* select and pselect: a thread blocked in select on fds up to
 * FD_SETSIZE - 1 (the highest fd select can name with an fd_set) wakes
 * when another thread writes; exactly that bit is left set and the count
 * is right; read/write/except sets combine; a timeout returns 0, clears
 * the sets and (Linux) leaves the unslept time in the timeval; select
 * with no fds sleeps; an fd that is not open gives EBADF. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/select.h>
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

static int hi_w;
static void *poker(void *a)
{
	usleep(50000);
	CHECK(write(hi_w, "x", 1) == 1);
	return NULL;
}

int main(void)
{
	int p[2], q[2];
	CHECK(pipe(p) == 0 && pipe(q) == 0);
	int hi = FD_SETSIZE - 1, lo = 900;
	CHECK(dup2(p[0], hi) == hi && dup2(q[0], lo) == lo);
	hi_w = p[1];
	fd_set r, w;
	FD_ZERO(&r);
	FD_ZERO(&w);
	FD_SET(hi, &r);
	FD_SET(lo, &r);
	pthread_t t;
	CHECK(pthread_create(&t, NULL, poker, NULL) == 0);
	CHECK(select(FD_SETSIZE, &r, NULL, NULL, NULL) == 1);
	CHECK(FD_ISSET(hi, &r) && !FD_ISSET(lo, &r));
	pthread_join(t, NULL);

	/* read + write sets together: hi readable, q[1] writable */
	FD_ZERO(&r);
	FD_ZERO(&w);
	FD_SET(hi, &r);
	FD_SET(lo, &r);
	FD_SET(q[1], &w);
	CHECK(select(FD_SETSIZE, &r, &w, NULL, NULL) == 2);
	CHECK(FD_ISSET(hi, &r) && !FD_ISSET(lo, &r) && FD_ISSET(q[1], &w));

	/* timeout: 0, sets cleared, timeval holds what is left (0) */
	char c;
	CHECK(read(hi, &c, 1) == 1);
	FD_ZERO(&r);
	FD_SET(hi, &r);
	FD_SET(lo, &r);
	struct timeval tv = {0, 150000};
	double t0 = now();
	CHECK(select(FD_SETSIZE, &r, NULL, NULL, &tv) == 0);
	CHECK(now() - t0 >= 0.15 && now() - t0 < 1.5);
	CHECK(!FD_ISSET(hi, &r) && !FD_ISSET(lo, &r));
	CHECK(tv.tv_sec == 0 && tv.tv_usec == 0);

	/* a ready fd: the unslept time is left in the timeval */
	CHECK(write(q[1], "y", 1) == 1);
	FD_ZERO(&r);
	FD_SET(lo, &r);
	tv = (struct timeval){5, 0};
	CHECK(select(lo + 1, &r, NULL, NULL, &tv) == 1 && FD_ISSET(lo, &r));
	CHECK(tv.tv_sec >= 4);

	/* no fds: a sleep */
	tv = (struct timeval){0, 100000};
	t0 = now();
	CHECK(select(0, NULL, NULL, NULL, &tv) == 0);
	CHECK(now() - t0 >= 0.1 && now() - t0 < 1.5);
	struct timespec ts = {0, 100000000};
	t0 = now();
	FD_ZERO(&r);
	FD_SET(hi, &r);
	CHECK(pselect(hi + 1, &r, NULL, NULL, &ts, NULL) == 0);
	CHECK(now() - t0 >= 0.1 && now() - t0 < 1.5);
	CHECK(ts.tv_nsec == 100000000); /* pselect leaves it alone */

	/* an fd that is not open */
	close(lo);
	FD_ZERO(&r);
	FD_SET(lo, &r);
	tv = (struct timeval){1, 0};
	CHECK(select(lo + 1, &r, NULL, NULL, &tv) == -1 && errno == EBADF);
	printf("io_select: ok\n");
	return 0;
}
