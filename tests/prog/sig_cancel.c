/* pthread_cancel (issue #6, acceptance 4): 1,000 threads blocked in
 * read() on a pipe, pthread_cond_wait, nanosleep and accept() (250 each)
 * are cancelled; each runs its cleanup handler exactly once (the cond
 * waiter with the mutex held, POSIX), join gives PTHREAD_CANCELED, and no
 * fd leaks; four such rounds leave malloc's bytes in use unchanged (no
 * memory kept per cancelled thread).  Also: cancellation disabled then
 * enabled acts at the next cancellation point; pthread_testcancel;
 * asynchronous cancellation of a thread spinning in pure computation; a
 * thread that never reaches a cancellation point returns normally. */
// greenrun-test: env=GREENRUN_PROCS=1
// greenrun-test: env=GREENRUN_PROCS=2
// greenrun-test: timeout=120
#define TEST_NAME "sig_cancel"
#include "sync_util.h"

#include <dirent.h>
#include <malloc.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#define N 1000

static atomic_int cleaned, cleaned_locked, started;
static int pfd[2], lsock;
static pthread_mutex_t mu;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;

static void cleanup(void *arg) { atomic_fetch_add(&cleaned, 1); }

static void cleanup_unlock(void *arg)
{
	/* an ERRORCHECK mutex: unlock succeeds only for its owner */
	if (pthread_mutex_unlock(&mu) == 0)
		atomic_fetch_add(&cleaned_locked, 1);
	atomic_fetch_add(&cleaned, 1);
}

static void *body(void *arg)
{
	long kind = (long)arg;
	char c;
	pthread_cleanup_push(kind == 1 ? cleanup_unlock : cleanup, NULL);
	atomic_fetch_add(&started, 1);
	switch (kind) {
	case 0:
		(void)!read(pfd[0], &c, 1);
		break;
	case 1:
		pthread_mutex_lock(&mu);
		for (;;)
			pthread_cond_wait(&cv, &mu);
		break;
	case 2: {
		struct timespec ts = {1000, 0};
		nanosleep(&ts, NULL);
		break;
	}
	case 3:
		(void)accept(lsock, NULL, NULL);
		break;
	}
	pthread_cleanup_pop(0);
	return (void *)1; /* reached only if not cancelled */
}

static int count_fds(void)
{
	int n = 0;
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	while ((e = readdir(d)))
		n++;
	closedir(d);
	return n;
}

static atomic_int reached;
static void *deferred(void *arg)
{
	int old;
	EXPECT_RC(pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old), 0);
	if (old != PTHREAD_CANCEL_ENABLE)
		die("default cancel state %d", old);
	atomic_store(&started, 1);
	while (atomic_load(&reached) == 0)
		ms_sleep(1); /* cancellation point, but disabled */
	EXPECT_RC(pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, NULL), 0);
	atomic_store(&reached, 2);
	pthread_testcancel();
	atomic_store(&reached, 3); /* must not get here */
	return NULL;
}

static volatile unsigned long spin_sink;
static void *spinner(void *arg)
{
	EXPECT_RC(pthread_setcanceltype(PTHREAD_CANCEL_ASYNCHRONOUS, NULL), 0);
	atomic_store(&started, 1);
	unsigned long x = 1;
	for (;;) /* no calls at all */
		x = x * 6364136223846793005ul + 1442695040888963407ul;
	spin_sink = x;
	return NULL;
}

static void *quick(void *arg) { return (void *)7; }


/* One round: N threads blocked in the four calls, all cancelled. */
static void cancel_round(void)
{
	int fds_before = count_fds();
	atomic_store(&cleaned, 0);
	atomic_store(&cleaned_locked, 0);
	atomic_store(&started, 0);
	if (pipe(pfd) != 0)
		die("pipe");
	lsock = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	if (bind(lsock, (struct sockaddr *)&sa, sizeof sa) || listen(lsock, 16))
		die("listen");
	static pthread_t t[N];
	pthread_attr_t a;
	pthread_attr_init(&a);
	pthread_attr_setstacksize(&a, 64 * 1024);
	for (long i = 0; i < N; i++)
		EXPECT_RC(pthread_create(&t[i], &a, body, (void *)(i % 4)), 0);
	wait_flag(&started, N, "threads started");
	for (int i = 0; i < N; i++)
		EXPECT_RC(pthread_cancel(t[i]), 0);
	for (int i = 0; i < N; i++) {
		void *r;
		EXPECT_RC(pthread_join(t[i], &r), 0);
		if (r != PTHREAD_CANCELED)
			die("thread %d (kind %d) returned %p", i, i % 4, r);
	}
	if (atomic_load(&cleaned) != N || atomic_load(&cleaned_locked) != N / 4)
		die("cleanups %d (want %d), with mutex held %d (want %d)",
		    atomic_load(&cleaned), N, atomic_load(&cleaned_locked),
		    N / 4);
	close(pfd[0]);
	close(pfd[1]);
	close(lsock);
	if (count_fds() != fds_before)
		die("fd count %d before, %d after", fds_before, count_fds());

}

int main(void)
{
	pthread_mutexattr_t ma;
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_ERRORCHECK);
	pthread_mutex_init(&mu, &ma);
	/* no memory kept per cancelled thread: malloc'd bytes in use are the
	 * same after the 2nd and the 4th round (the 1st warms caches) */
	cancel_round();
	cancel_round();
	size_t inuse2 = mallinfo2().uordblks;
	cancel_round();
	cancel_round();
	size_t inuse4 = mallinfo2().uordblks;
	if (inuse4 > inuse2 + 16384)
		die("malloc in use grew from %zu to %zu bytes over 2 rounds "
		    "of %d cancellations", inuse2, inuse4, N);
	/* disabled, then enabled: acts at pthread_testcancel */
	pthread_t d;
	atomic_store(&started, 0);
	EXPECT_RC(pthread_create(&d, NULL, deferred, NULL), 0);
	wait_flag(&started, 1, "deferred started");
	EXPECT_RC(pthread_cancel(d), 0);
	atomic_store(&reached, 1);
	void *r;
	EXPECT_RC(pthread_join(d, &r), 0);
	if (r != PTHREAD_CANCELED || atomic_load(&reached) != 2)
		die("deferred: ret %p reached %d", r, atomic_load(&reached));

	/* asynchronous type: a thread that makes no calls */
	pthread_t s;
	atomic_store(&started, 0);
	EXPECT_RC(pthread_create(&s, NULL, spinner, NULL), 0);
	wait_flag(&started, 1, "spinner started");
	EXPECT_RC(pthread_cancel(s), 0);
	EXPECT_RC(pthread_join(s, &r), 0);
	if (r != PTHREAD_CANCELED)
		die("spinner returned %p", r);

	/* a thread that never reaches a cancellation point returns normally */
	pthread_t q;
	EXPECT_RC(pthread_create(&q, NULL, quick, NULL), 0);
	EXPECT_RC(pthread_cancel(q), 0); /* no cancellation point in quick */
	EXPECT_RC(pthread_join(q, &r), 0);
	if (r != (void *)7)
		die("exited thread returned %p", r);

	EXPECT_RC(pthread_setcancelstate(7, NULL), EINVAL);
	EXPECT_RC(pthread_setcanceltype(7, NULL), EINVAL);
	printf("sig_cancel ok\n");
	return 0;
}
