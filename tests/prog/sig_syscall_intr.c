// sig_syscall_intr: a signal ends a system call greenrun cannot park
// (open of a FIFO, waitpid, flock), as natively: EINTR when the handler
// has no SA_RESTART, and the handler runs on the thread that was blocked.
//
// Why: such a call blocks its OS thread (syscall handoff).  A signal the
// kernel delivered to another OS thread became pending on the blocked
// thread but could not end the call, so `alarm(); open(fifo)` hung in
// about 1 run of 7 (and open was not even wrapped as a system call);
// pthread_kill() to a thread in waitpid() or flock() waited for the call
// to end by itself.  runtime/sig.c now sends a marked copy of the signal
// to that OS thread, repeated every ms until the call is over.
//   1. 20 rounds: a 20 ms interval timer (SIGALRM, no SA_RESTART) while
//      main opens a FIFO that has no writer: open gives -1/EINTR, the
//      handler ran exactly once per round.
//   2. pthread_kill(SIGUSR1) to a thread blocked in waitpid() on a child
//      that sleeps 30 s: waitpid gives -1/EINTR, the handler ran on that
//      thread (pthread_self() inside it), the child is then killed and
//      reaped.
//   3. pthread_kill(SIGUSR1) to a thread blocked in flock(LOCK_EX) on a
//      file main holds locked through another open file description:
//      flock gives -1/EINTR on that thread.
//   4. The same with fcntl(F_OFD_SETLKW) against main's F_OFD_SETLK lock
//      (F_SETLKW was not even a system call greenrun saw before).
// greenrun-test: env=GREENRUN_PROCS=1
// greenrun-test: env=GREENRUN_PROCS=2
// greenrun-test: timeout=60
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHECK(c)                                                               \
	do {                                                                   \
		if (!(c)) {                                                    \
			printf("FAIL line %d: %s (errno %d %s)\n", __LINE__,   \
			       #c, errno, strerror(errno));                    \
			exit(1);                                               \
		}                                                              \
	} while (0)

static atomic_int nalrm, nusr1;
static pthread_t usr1_on;

static void on_alrm(int s) { atomic_fetch_add(&nalrm, 1); }
static void on_usr1(int s)
{
	usr1_on = pthread_self();
	atomic_fetch_add(&nusr1, 1);
}

static void handler(int sig, void (*h)(int))
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = h; /* no SA_RESTART */
	CHECK(sigaction(sig, &sa, NULL) == 0);
}

/* wait (sleeping) until t is blocked in a system call: /proc state S
 * alone cannot tell greenrun's threads apart, so just give it 50 ms and
 * re-send until the call ends (each send is idempotent for the test) */
static void nap(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
	nanosleep(&ts, NULL);
}

struct blk {
	pid_t child;
	int lockfd;
	int ret, err;
	atomic_int done;
};

static void *in_waitpid(void *a)
{
	struct blk *b = a;
	int st;
	b->ret = waitpid(b->child, &st, 0);
	b->err = errno;
	atomic_store(&b->done, 1);
	return NULL;
}

static void *in_ofdlock(void *a)
{
	struct blk *b = a;
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	b->ret = fcntl(b->lockfd, F_OFD_SETLKW, &fl);
	b->err = errno;
	atomic_store(&b->done, 1);
	return NULL;
}

static void *in_flock(void *a)
{
	struct blk *b = a;
	b->ret = flock(b->lockfd, LOCK_EX);
	b->err = errno;
	atomic_store(&b->done, 1);
	return NULL;
}

/* pthread_kill t with SIGUSR1 until it reports done (at most ~5 s) */
static void kill_until_done(pthread_t t, struct blk *b)
{
	nap(50);
	for (int i = 0; i < 100 && !atomic_load(&b->done); i++) {
		CHECK(pthread_kill(t, SIGUSR1) == 0);
		nap(50);
	}
	CHECK(atomic_load(&b->done));
}

/* Run fn(b) on a new thread, pthread_kill it until its call returns: the
 * call must give -1/EINTR, the handler must have run on that thread. */
static void expect_killed(void *(*fn)(void *), struct blk *b)
{
	pthread_t t;
	atomic_store(&nusr1, 0);
	CHECK(pthread_create(&t, NULL, fn, b) == 0);
	kill_until_done(t, b);
	CHECK(pthread_join(t, NULL) == 0);
	CHECK(b->ret == -1 && b->err == EINTR);
	CHECK(atomic_load(&nusr1) >= 1 && pthread_equal(usr1_on, t));
}

int main(void)
{
	handler(SIGALRM, on_alrm);
	handler(SIGUSR1, on_usr1);

	/* 1. interval timer vs open of a FIFO without writer */
	char fifo[64];
	snprintf(fifo, sizeof fifo, "/tmp/gr_sigintr_%d", getpid());
	unlink(fifo);
	CHECK(mkfifo(fifo, 0600) == 0);
	for (int r = 0; r < 20; r++) {
		atomic_store(&nalrm, 0);
		struct itimerval it = {{0, 0}, {0, 20000}};
		CHECK(setitimer(ITIMER_REAL, &it, NULL) == 0);
		errno = 0;
		int fd = open(fifo, O_RDONLY);
		int e = errno;
		if (fd != -1 || e != EINTR || atomic_load(&nalrm) != 1) {
			printf("FAIL round %d: open=%d errno=%d (%s), handler ran %d times\n",
			       r, fd, e, strerror(e), atomic_load(&nalrm));
			unlink(fifo);
			return 1;
		}
	}
	unlink(fifo);

	/* 2. pthread_kill vs waitpid */
	struct blk b;
	memset(&b, 0, sizeof b);
	b.child = fork();
	CHECK(b.child >= 0);
	if (b.child == 0) {
		sleep(30);
		_exit(0);
	}
	expect_killed(in_waitpid, &b);
	CHECK(kill(b.child, SIGKILL) == 0);
	int st;
	CHECK(waitpid(b.child, &st, 0) == b.child && WIFSIGNALED(st) &&
	      WTERMSIG(st) == SIGKILL);

	/* 3. pthread_kill vs flock */
	char path[64];
	snprintf(path, sizeof path, "/tmp/gr_sigintr_lock_%d", getpid());
	int held = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	CHECK(held >= 0 && flock(held, LOCK_EX) == 0);
	memset(&b, 0, sizeof b);
	b.lockfd = open(path, O_RDWR); /* its own open file description */
	CHECK(b.lockfd >= 0);
	unlink(path);
	expect_killed(in_flock, &b);
	close(b.lockfd);
	close(held);

	/* 4. pthread_kill vs fcntl(F_OFD_SETLKW) */
	held = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	CHECK(held >= 0 && fcntl(held, F_OFD_SETLK, &fl) == 0);
	memset(&b, 0, sizeof b);
	b.lockfd = open(path, O_RDWR);
	CHECK(b.lockfd >= 0);
	unlink(path);
	expect_killed(in_ofdlock, &b);
	close(b.lockfd);
	close(held);

	printf("ok: 20 open(FIFO) EINTRs; waitpid, flock, F_OFD_SETLKW ended by pthread_kill\n");
	return 0;
}
