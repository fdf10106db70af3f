// review_glibc_edges: three results that differed from glibc, found by a
// fresh-eyes review (each printed natively vs greenrun):
//   1. pthread_rwlock_tryrdlock / trywrlock by the thread that holds the
//      write lock: EBUSY (greenrun said EDEADLK, the blocking calls' code);
//   2. sleep(3) interrupted by a signal after ~100 ms: the whole seconds
//      left, truncated, 2 (greenrun rounded to 3, as glibc does not);
//   3. a raw syscall(SYS_close_range, 3, ~0U, 0) (programs written before
//      glibc had the wrapper) closed greenrun's own netpoller fds: a read
//      of a new pipe then failed with EBADF, and with 2 Ps a join hung.
//      Now it goes through the wrapper, which spares them.
// greenrun-test: env=GREENRUN_PROCS=1
// greenrun-test: env=GREENRUN_PROCS=2
// greenrun-test: timeout=60
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define CHECK(c)                                                               \
	do {                                                                   \
		if (!(c)) {                                                    \
			printf("FAIL line %d: %s\n", __LINE__, #c);            \
			return 1;                                              \
		}                                                              \
	} while (0)

static void on_usr1(int s) {}
static unsigned slept_left;
static void *sleeper(void *a)
{
	slept_left = sleep(3);
	return NULL;
}

static int fds[2];
static char got[8];
static ssize_t nread = -2;
static int rerr;
static void *reader(void *a)
{
	nread = read(fds[0], got, sizeof got);
	rerr = errno;
	return NULL;
}

int main(void)
{
	/* 1 */
	pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
	CHECK(pthread_rwlock_wrlock(&rw) == 0);
	CHECK(pthread_rwlock_tryrdlock(&rw) == EBUSY);
	CHECK(pthread_rwlock_trywrlock(&rw) == EBUSY);
	CHECK(pthread_rwlock_unlock(&rw) == 0);

	/* 2 */
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_usr1;
	CHECK(sigaction(SIGUSR1, &sa, NULL) == 0);
	pthread_t t;
	CHECK(pthread_create(&t, NULL, sleeper, NULL) == 0);
	struct timespec ts = {0, 100000000};
	nanosleep(&ts, NULL);
	CHECK(pthread_kill(t, SIGUSR1) == 0);
	CHECK(pthread_join(t, NULL) == 0);
	if (slept_left != 2) {
		printf("sleep(3) interrupted after ~100 ms returned %u, want 2\n",
		       slept_left);
		return 1;
	}

	/* 3 */
	CHECK(syscall(SYS_close_range, 3, ~0U, 0) == 0);
	CHECK(pipe(fds) == 0);
	CHECK(pthread_create(&t, NULL, reader, NULL) == 0);
	CHECK(write(fds[1], "hello", 5) == 5);
	CHECK(pthread_join(t, NULL) == 0);
	if (nread != 5 || memcmp(got, "hello", 5) != 0) {
		printf("read after close_range: %zd (%s)\n", nread, strerror(rerr));
		return 1;
	}
	printf("ok: rwlock try EBUSY, sleep left 2, I/O after close_range\n");
	return 0;
}
