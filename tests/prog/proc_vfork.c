/* vfork under greenrun (found by a fresh-eyes review: every CPython
 * subprocess call broke its parent).  The vfork child shares the parent's
 * memory, so what it does before exec must not reach greenrun's state:
 *  1. the child sets SIGUSR1 to SIG_DFL and unblocks everything: the
 *     parent's handler and mask are unchanged (the handler runs once on
 *     raise());
 *  2. a thread of the parent is blocked in read() on a pipe while the
 *     child closes that fd (close, close_range, dup2 over it) and execs:
 *     the reader still gets the parent's byte.
 * (The reader may not have reached read() before the child closes; the
 * result is the same either way.) */
// greenrun-test: env=GREENRUN_PROCS=1
// greenrun-test: env=GREENRUN_PROCS=2
#define TEST_NAME "proc_vfork"
#include "sync_util.h"

#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

static atomic_int calls;
static void h(int s) { atomic_fetch_add(&calls, 1); }

static int p[2];
static ssize_t got;
static char gotc;
static void *reader(void *a)
{
	got = read(p[0], &gotc, 1);
	return NULL;
}

int main(void)
{
	signal(SIGUSR1, h);
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	pid_t c = vfork();
	if (c == 0) {
		struct sigaction dfl;
		memset(&dfl, 0, sizeof dfl);
		dfl.sa_handler = SIG_DFL;
		sigaction(SIGUSR1, &dfl, NULL);
		sigset_t none;
		sigemptyset(&none);
		pthread_sigmask(SIG_SETMASK, &none, NULL);
		execl("/bin/true", "true", (char *)NULL);
		_exit(127);
	}
	sigset_t after;
	pthread_sigmask(SIG_SETMASK, NULL, &after);
	if (!sigismember(&after, SIGUSR1))
		die("1: the child's unblock changed the parent's mask");
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	waitpid(c, NULL, 0);
	struct sigaction cur;
	sigaction(SIGUSR1, NULL, &cur);
	if (cur.sa_handler != h)
		die("1: the child's sigaction changed the parent's handler");
	raise(SIGUSR1);
	if (atomic_load(&calls) != 1)
		die("1: handler calls %d", atomic_load(&calls));

	for (int mode = 0; mode < 3; mode++) {
		if (pipe(p))
			die("pipe");
		pthread_t t;
		EXPECT_RC(pthread_create(&t, NULL, reader, NULL), 0);
		for (int i = 0; i < 20; i++)
			sched_yield(); /* let the reader block (either way ok) */
		c = vfork();
		if (c == 0) {
			if (mode == 0)
				close(p[0]);
			else if (mode == 1)
				close_range(3, ~0U, 0);
			else
				dup2(2, p[0]);
			execl("/bin/true", "true", (char *)NULL);
			_exit(127);
		}
		waitpid(c, NULL, 0);
		if (write(p[1], "x", 1) != 1)
			die("write");
		EXPECT_RC(pthread_join(t, NULL), 0);
		if (got != 1 || gotc != 'x')
			die("2: mode %d: reader got %zd", mode, got);
		close(p[0]);
		close(p[1]);
	}
	printf("proc_vfork ok\n");
	return 0;
}
