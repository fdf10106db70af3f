/* Signal semantics a single-threaded or lightly threaded program relies
 * on, each with its exact expected result:
 *  - raise() runs the handler before it returns, on the calling thread;
 *  - a signal raised while blocked is pending (sigpending) and delivered
 *    before the unblocking pthread_sigmask returns;
 *  - sa_mask and the signal itself are blocked inside the handler;
 *  - alarm() interrupts a read() on a pipe in the one thread that does not
 *    block SIGALRM (process-directed, no SA_RESTART): EINTR; nanosleep gives EINTR and the time
 *    left; sleep() returns the unslept seconds; select() gives EINTR;
 *  - sigsuspend returns -1/EINTR after the handler, with the old mask back;
 *  - a SIGSEGV handler that siglongjmps out gets the mask back;
 *  - SIGCHLD from a child process runs the handler;
 *  - sigaction reports the old action; EINVAL for SIGKILL, 0 or NSIG;
 *    pthread_kill(t, 0) is 0; SIG_IGN discards; SIG_DFL after SIG_IGN
 *    is the default action again. */
// greenrun-test: env=GREENRUN_PROCS=1
// greenrun-test: env=GREENRUN_PROCS=2
#define TEST_NAME "sig_misc"
#include "sync_util.h"

#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/select.h>
#include <sys/wait.h>
#include <unistd.h>

static atomic_int hits[65];
static pthread_t hit_thread[65];
static atomic_int usr2_blocked_inside, usr1_blocked_inside;

static void on_sig(int sig)
{
	hit_thread[sig] = pthread_self();
	sigset_t cur;
	pthread_sigmask(SIG_BLOCK, NULL, &cur);
	if (sig == SIGUSR1) {
		atomic_store(&usr1_blocked_inside, sigismember(&cur, SIGUSR1));
		atomic_store(&usr2_blocked_inside, sigismember(&cur, SIGUSR2));
	}
	atomic_fetch_add(&hits[sig], 1);
}

static void handle(int sig, int flags, int masked)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_sig;
	sa.sa_flags = flags;
	sigemptyset(&sa.sa_mask);
	if (masked)
		sigaddset(&sa.sa_mask, masked);
	if (sigaction(sig, &sa, NULL) != 0)
		die("sigaction %d", sig);
}

static int pfd[2];
static ssize_t rd_ret;
static int rd_errno;
static void *alarm_reader(void *arg)
{
	char c;
	sigset_t a;
	sigemptyset(&a);
	sigaddset(&a, SIGALRM);
	pthread_sigmask(SIG_UNBLOCK, &a, NULL); /* only this thread takes it */
	alarm(1);
	errno = 0;
	rd_ret = read(pfd[0], &c, 1);
	rd_errno = errno;
	return NULL;
}

static sigjmp_buf jb;
static void on_segv(int sig) { siglongjmp(jb, 1); }

int main(void)
{
	/* raise: synchronous, on this thread, sa_mask honoured */
	handle(SIGUSR1, 0, SIGUSR2);
	raise(SIGUSR1);
	if (atomic_load(&hits[SIGUSR1]) != 1 ||
	    !pthread_equal(hit_thread[SIGUSR1], pthread_self()))
		die("raise: hits %d", atomic_load(&hits[SIGUSR1]));
	if (!atomic_load(&usr1_blocked_inside) || !atomic_load(&usr2_blocked_inside))
		die("inside the handler: SIGUSR1 blocked %d, SIGUSR2 %d",
		    atomic_load(&usr1_blocked_inside),
		    atomic_load(&usr2_blocked_inside));
	sigset_t cur;
	pthread_sigmask(SIG_BLOCK, NULL, &cur);
	if (sigismember(&cur, SIGUSR1) || sigismember(&cur, SIGUSR2))
		die("mask not restored after the handler");

	/* blocked -> pending -> delivered on unblock */
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGUSR1);
	EXPECT_RC(pthread_sigmask(SIG_BLOCK, &s, NULL), 0);
	raise(SIGUSR1);
	if (atomic_load(&hits[SIGUSR1]) != 1)
		die("delivered while blocked");
	sigset_t p;
	sigpending(&p);
	if (!sigismember(&p, SIGUSR1))
		die("not pending while blocked");
	EXPECT_RC(pthread_sigmask(SIG_UNBLOCK, &s, NULL), 0);
	if (atomic_load(&hits[SIGUSR1]) != 2)
		die("not delivered by the unblock (hits %d)",
		    atomic_load(&hits[SIGUSR1]));

	/* alarm interrupts a blocking read in another thread */
	handle(SIGALRM, 0, 0);
	if (pipe(pfd) != 0)
		die("pipe");
	sigemptyset(&s);
	sigaddset(&s, SIGALRM);
	EXPECT_RC(pthread_sigmask(SIG_BLOCK, &s, NULL), 0);
	pthread_t t;
	EXPECT_RC(pthread_create(&t, NULL, alarm_reader, NULL), 0);
	EXPECT_RC(pthread_join(t, NULL), 0);
	EXPECT_RC(pthread_sigmask(SIG_UNBLOCK, &s, NULL), 0);
	if (rd_ret != -1 || rd_errno != EINTR || atomic_load(&hits[SIGALRM]) != 1)
		die("alarm: read %zd errno %d hits %d", rd_ret, rd_errno,
		    atomic_load(&hits[SIGALRM]));

	/* nanosleep: EINTR and the remaining time */
	alarm(1);
	struct timespec req = {5, 0}, rem = {0, 0};
	errno = 0;
	if (nanosleep(&req, &rem) != -1 || errno != EINTR)
		die("nanosleep: errno %d", errno);
	if (rem.tv_sec < 3 || rem.tv_sec > 4)
		die("nanosleep rem %ld s, want about 4", (long)rem.tv_sec);
	/* sleep(): unslept seconds */
	alarm(1);
	unsigned left = sleep(5);
	if (left < 3 || left > 4)
		die("sleep left %u, want about 4", left);
	/* select with no fds: EINTR */
	alarm(1);
	struct timeval tv = {5, 0};
	errno = 0;
	if (select(0, NULL, NULL, NULL, &tv) != -1 || errno != EINTR)
		die("select: errno %d", errno);
	if (atomic_load(&hits[SIGALRM]) != 4)
		die("SIGALRM hits %d, want 4", atomic_load(&hits[SIGALRM]));

	/* sigsuspend */
	handle(SIGUSR2, 0, 0);
	sigemptyset(&s);
	sigaddset(&s, SIGUSR2);
	EXPECT_RC(pthread_sigmask(SIG_BLOCK, &s, NULL), 0);
	raise(SIGUSR2);
	sigset_t none;
	sigemptyset(&none);
	errno = 0;
	if (sigsuspend(&none) != -1 || errno != EINTR ||
	    atomic_load(&hits[SIGUSR2]) != 1)
		die("sigsuspend: errno %d hits %d", errno,
		    atomic_load(&hits[SIGUSR2]));
	pthread_sigmask(SIG_BLOCK, NULL, &cur);
	if (!sigismember(&cur, SIGUSR2))
		die("sigsuspend did not restore the mask");
	EXPECT_RC(pthread_sigmask(SIG_UNBLOCK, &s, NULL), 0);

	/* SIGSEGV handler + siglongjmp */
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_segv;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, NULL);
	for (int i = 0; i < 2; i++) {
		if (sigsetjmp(jb, 1) == 0) {
			*(volatile int *)16 = 1;
			die("no fault");
		}
	}
	pthread_sigmask(SIG_BLOCK, NULL, &cur);
	if (sigismember(&cur, SIGSEGV))
		die("SIGSEGV still blocked after siglongjmp");

	/* SIGCHLD */
	handle(SIGCHLD, SA_RESTART, 0);
	pid_t c = fork();
	if (c == 0)
		_exit(3);
	int st;
	if (waitpid(c, &st, 0) != c || !WIFEXITED(st) || WEXITSTATUS(st) != 3)
		die("waitpid");
	for (int i = 0; i < 2000 && atomic_load(&hits[SIGCHLD]) == 0; i++)
		ms_sleep(1);
	if (atomic_load(&hits[SIGCHLD]) != 1)
		die("SIGCHLD hits %d", atomic_load(&hits[SIGCHLD]));

	/* sigaction bookkeeping and errors */
	struct sigaction old;
	sigaction(SIGUSR1, NULL, &old);
	if (old.sa_handler != on_sig || !sigismember(&old.sa_mask, SIGUSR2))
		die("old action");
	errno = 0;
	if (sigaction(SIGKILL, &sa, NULL) != -1 || errno != EINVAL)
		die("SIGKILL: errno %d", errno);
	if (sigaction(0, &sa, NULL) != -1 || sigaction(NSIG, &sa, NULL) != -1)
		die("bad signal numbers accepted");
	EXPECT_RC(pthread_kill(pthread_self(), 0), 0);
	EXPECT_RC(pthread_kill(pthread_self(), 999), EINVAL);
	signal(SIGUSR1, SIG_IGN);
	raise(SIGUSR1);
	pthread_kill(pthread_self(), SIGUSR1);
	if (atomic_load(&hits[SIGUSR1]) != 2)
		die("SIG_IGN: handler ran");
	/* SIG_IGN, then back to SIG_DFL: the default action applies again
	 * (a child that raises SIGUSR2 dies of it) */
	signal(SIGUSR2, SIG_IGN);
	signal(SIGUSR2, SIG_DFL);
	pid_t k = fork();
	if (k == 0) {
		raise(SIGUSR2);
		_exit(0);
	}
	if (waitpid(k, &st, 0) != k || !WIFSIGNALED(st) ||
	    WTERMSIG(st) != SIGUSR2)
		die("SIG_IGN then SIG_DFL: child status %#x", st);
	printf("sig_misc ok\n");
	return 0;
}
