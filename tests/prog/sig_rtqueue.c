/* Real-time signals queue as on Linux: every instance of SIGRTMIN..SIGRTMAX
 * is kept with its own siginfo, in order; standard signals keep one
 * pending instance (the first one's siginfo).
 *   fifo:      5 sigqueue() of SIGRTMIN (values 1..5) while blocked, then
 *              sigwaitinfo 5 times gets 1..5 in order; sigpending() shows
 *              the signal until the last instance is taken
 *   order:     lower real-time number first (sigwaitinfo, and handlers)
 *   handler:   an SA_SIGINFO handler runs once per instance, with each
 *              value, all before the unblocking sigprocmask returns
 *   thread:    pthread_sigqueue() to one thread queues on that thread
 *              only, apart from the caller's own queue
 *   standard:  a standard signal sent twice while blocked is delivered
 *              once, with the first instance's value
 *   process:   5 instances sent by another process all arrive, each once
 *   cap:       (a re-executed child with RLIMIT_SIGPENDING = 64) sigqueue()
 *              (as a fresh uid when run as root, so no other process's
 *              pending signals count) says EAGAIN once 64 instances are
 *              pending, pthread_sigqueue() too, kill() still
 *              succeeds, 64 instances come back in order, and then the
 *              queue takes signals again */
// greenrun-test: env=GREENRUN_PROCS=1
// greenrun-test: env=GREENRUN_PROCS=2
// greenrun-test: timeout=60
#define _GNU_SOURCE /* pthread_sigqueue */
#define TEST_NAME "sig_rtqueue"
#include "sync_util.h"

#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#define CAP 64
#define FRESH_UID 54329 /* a uid nothing else runs as */

static sigset_t one(int sig)
{
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, sig);
	return s;
}

static void block(int sig)
{
	sigset_t s = one(sig);
	EXPECT_RC(pthread_sigmask(SIG_BLOCK, &s, NULL), 0);
}

static void unblock(int sig)
{
	sigset_t s = one(sig);
	EXPECT_RC(pthread_sigmask(SIG_UNBLOCK, &s, NULL), 0);
}

static int is_pending(int sig)
{
	sigset_t p;
	if (sigpending(&p) != 0)
		die("sigpending: %s", strerror(errno));
	return sigismember(&p, sig);
}

static void queue(pid_t pid, int sig, int v)
{
	if (sigqueue(pid, sig, (union sigval){.sival_int = v}) != 0)
		die("sigqueue(%d, value %d): %s", sig, v, strerror(errno));
}

/* sigwaitinfo for set: must return sig with value v (SI_QUEUE, from us) */
static void expect_wait(const sigset_t *set, int sig, int v, pid_t from)
{
	siginfo_t si;
	memset(&si, 0, sizeof si);
	int r = sigwaitinfo(set, &si);
	if (r != sig || si.si_signo != sig || si.si_code != SI_QUEUE ||
	    si.si_value.sival_int != v || si.si_pid != from)
		die("sigwaitinfo: got %d signo %d code %d value %d pid %d, "
		    "want %d %d SI_QUEUE %d %d", r, si.si_signo, si.si_code,
		    si.si_value.sival_int, si.si_pid, sig, sig, v, from);
}

static void expect_none(const sigset_t *set)
{
	struct timespec zero = {0, 0};
	siginfo_t si;
	int r = sigtimedwait(set, &si, &zero);
	if (r != -1 || errno != EAGAIN)
		die("sigtimedwait(0): got %d (value %d), want EAGAIN", r,
		    r > 0 ? si.si_value.sival_int : 0);
}

static void test_fifo(void)
{
	int sig = SIGRTMIN;
	sigset_t s = one(sig);
	block(sig);
	if (is_pending(sig))
		die("fifo: pending before anything was sent");
	for (int v = 1; v <= 5; v++)
		queue(getpid(), sig, v);
	for (int v = 1; v <= 5; v++) {
		if (!is_pending(sig))
			die("fifo: not pending with %d instances left", 6 - v);
		expect_wait(&s, sig, v, getpid());
	}
	if (is_pending(sig))
		die("fifo: still pending after the last instance");
	expect_none(&s);
	unblock(sig);
}

/* handler log: (signal, value) in delivery order */
static volatile int log_sig[64], log_val[64], nlog;

static void logger(int sig, siginfo_t *si, void *uc)
{
	if (nlog < 64) {
		log_sig[nlog] = sig;
		log_val[nlog] = si->si_value.sival_int;
	}
	nlog++;
}

static void expect_log(const char *what, int n, const int *sigs,
		       const int *vals)
{
	if (nlog != n)
		die("%s: %d handler calls, want %d", what, nlog, n);
	for (int i = 0; i < n; i++)
		if (log_sig[i] != sigs[i] || log_val[i] != vals[i])
			die("%s: call %d was (SIGRTMIN+%d, %d), want "
			    "(SIGRTMIN+%d, %d)", what, i, log_sig[i] - SIGRTMIN,
			    log_val[i], sigs[i] - SIGRTMIN, vals[i]);
	nlog = 0;
}

static void test_order(void)
{
	int a = SIGRTMIN, b = SIGRTMIN + 1, c = SIGRTMIN + 2;
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, a);
	sigaddset(&s, b);
	sigaddset(&s, c);
	EXPECT_RC(pthread_sigmask(SIG_BLOCK, &s, NULL), 0);
	queue(getpid(), c, 20);
	queue(getpid(), b, 10);
	queue(getpid(), c, 21);
	queue(getpid(), a, 0);
	expect_wait(&s, a, 0, getpid());
	expect_wait(&s, b, 10, getpid());
	expect_wait(&s, c, 20, getpid());
	expect_wait(&s, c, 21, getpid());
	expect_none(&s);

	/* the same through handlers that block all three while they run */
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = logger;
	sa.sa_flags = SA_SIGINFO;
	sa.sa_mask = s;
	EXPECT_RC(sigaction(a, &sa, NULL), 0);
	EXPECT_RC(sigaction(b, &sa, NULL), 0);
	EXPECT_RC(sigaction(c, &sa, NULL), 0);
	queue(getpid(), c, 20);
	queue(getpid(), b, 10);
	queue(getpid(), c, 21);
	queue(getpid(), a, 0);
	if (nlog)
		die("order: a handler ran while blocked");
	EXPECT_RC(pthread_sigmask(SIG_UNBLOCK, &s, NULL), 0);
	expect_log("order", 4, (int[]){a, b, c, c}, (int[]){0, 10, 20, 21});
	signal(a, SIG_DFL);
	signal(b, SIG_DFL);
	signal(c, SIG_DFL);
}

static void test_handler(void)
{
	int sig = SIGRTMIN + 3;
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = logger;
	sa.sa_flags = SA_SIGINFO;
	EXPECT_RC(sigaction(sig, &sa, NULL), 0);
	block(sig);
	for (int v = 1; v <= 5; v++)
		queue(getpid(), sig, v);
	if (nlog)
		die("handler: ran while blocked");
	unblock(sig);
	int s5[5] = {sig, sig, sig, sig, sig};
	expect_log("handler", 5, s5, (int[]){1, 2, 3, 4, 5});
	/* and to the thread itself: pthread_sigqueue */
	block(sig);
	for (int v = 6; v <= 8; v++)
		EXPECT_RC(pthread_sigqueue(pthread_self(), sig,
					   (union sigval){.sival_int = v}), 0);
	unblock(sig);
	expect_log("handler (pthread_sigqueue)", 3, s5, (int[]){6, 7, 8});
	signal(sig, SIG_DFL);
}

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int go, done;

static void *target(void *arg)
{
	int sig = SIGRTMIN + 5;
	sigset_t s = one(sig);
	pthread_mutex_lock(&mu);
	while (!go)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	for (int v = 1; v <= 3; v++) {
		if (!is_pending(sig))
			die("thread: not pending on the target");
		expect_wait(&s, sig, v, getpid());
	}
	if (is_pending(sig))
		die("thread: still pending on the target");
	expect_none(&s);
	pthread_mutex_lock(&mu);
	done = 1;
	pthread_cond_signal(&cv);
	pthread_mutex_unlock(&mu);
	return NULL;
}

static void test_thread(void)
{
	int sig = SIGRTMIN + 5;
	sigset_t s = one(sig);
	block(sig); /* the target inherits the mask */
	pthread_t t;
	EXPECT_RC(pthread_create(&t, NULL, target, NULL), 0);
	for (int v = 1; v <= 3; v++)
		EXPECT_RC(pthread_sigqueue(t, sig,
					   (union sigval){.sival_int = v}), 0);
	if (is_pending(sig))
		die("thread: the sender sees the target's signal pending");
	EXPECT_RC(pthread_sigqueue(pthread_self(), sig,
				   (union sigval){.sival_int = 100}), 0);
	pthread_mutex_lock(&mu);
	go = 1;
	pthread_cond_signal(&cv);
	while (!done)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	EXPECT_RC(pthread_join(t, NULL), 0);
	/* its own instance is still there, and only that one */
	if (!is_pending(sig))
		die("thread: the sender's own instance is gone");
	expect_wait(&s, sig, 100, getpid());
	expect_none(&s);
	unblock(sig);
}

static volatile int usr_calls, usr_val;

static void usr_handler(int sig, siginfo_t *si, void *uc)
{
	usr_calls++;
	usr_val = si->si_value.sival_int;
}

static void test_standard(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = usr_handler;
	sa.sa_flags = SA_SIGINFO;
	EXPECT_RC(sigaction(SIGUSR1, &sa, NULL), 0);
	block(SIGUSR1);
	queue(getpid(), SIGUSR1, 1);
	queue(getpid(), SIGUSR1, 2);
	if (!is_pending(SIGUSR1) || usr_calls)
		die("standard: not pending, or delivered while blocked");
	unblock(SIGUSR1);
	if (usr_calls != 1 || usr_val != 1)
		die("standard: %d handler calls (last value %d), want 1 call "
		    "with the first value 1", usr_calls, usr_val);
	if (is_pending(SIGUSR1))
		die("standard: still pending");
	/* twice to the thread itself */
	usr_calls = 0;
	block(SIGUSR1);
	EXPECT_RC(pthread_kill(pthread_self(), SIGUSR1), 0);
	EXPECT_RC(pthread_kill(pthread_self(), SIGUSR1), 0);
	unblock(SIGUSR1);
	if (usr_calls != 1)
		die("standard: pthread_kill twice: %d handler calls, want 1",
		    usr_calls);
	signal(SIGUSR1, SIG_DFL);
	/* through sigwaitinfo */
	sigset_t s = one(SIGUSR2);
	block(SIGUSR2);
	queue(getpid(), SIGUSR2, 7);
	queue(getpid(), SIGUSR2, 8);
	expect_wait(&s, SIGUSR2, 7, getpid());
	expect_none(&s);
	unblock(SIGUSR2);
}

static void test_process(void)
{
	int sig = SIGRTMIN + 6;
	sigset_t s = one(sig);
	block(sig);
	pid_t parent = getpid(), c = fork();
	if (c < 0)
		die("fork: %s", strerror(errno));
	if (c == 0) {
		for (int v = 1; v <= 5; v++)
			if (sigqueue(parent, sig,
				     (union sigval){.sival_int = v}) != 0)
				_exit(2);
		_exit(0);
	}
	int st;
	if (waitpid(c, &st, 0) != c || !WIFEXITED(st) || WEXITSTATUS(st))
		die("process: the sender failed (status %#x)", st);
	int seen = 0;
	for (int i = 0; i < 5; i++) {
		siginfo_t si;
		struct timespec bound = {30, 0}; /* a failure, not a wait */
		if (sigtimedwait(&s, &si, &bound) != sig ||
		    si.si_code != SI_QUEUE ||
		    si.si_pid != c)
			die("process: instance %d: signo %d code %d pid %d", i,
			    si.si_signo, si.si_code, si.si_pid);
		int v = si.si_value.sival_int;
		if (v < 1 || v > 5 || (seen & (1 << v)))
			die("process: value %d unexpected or seen twice", v);
		seen |= 1 << v;
	}
	expect_none(&s);
	unblock(sig);
}

/* The re-executed child: RLIMIT_SIGPENDING is CAP. */
static int cap_child(void)
{
	int sig = SIGRTMIN + 4;
	sigset_t s = one(sig);
	if (sysconf(_SC_SIGQUEUE_MAX) != CAP)
		die("cap: _SC_SIGQUEUE_MAX %ld, want %d",
		    sysconf(_SC_SIGQUEUE_MAX), CAP);
	block(sig);
	int n = 0;
	while (n < 10 * CAP &&
	       sigqueue(getpid(), sig, (union sigval){.sival_int = n}) == 0)
		n++;
	if (n != CAP || errno != EAGAIN)
		die("cap: %d queued, then %s; want %d then EAGAIN", n,
		    strerror(errno), CAP);
	/* the same through pthread_sigqueue */
	EXPECT_RC(pthread_sigqueue(pthread_self(), sig,
				   (union sigval){.sival_int = -1}), EAGAIN);
	/* kill() is never refused (the kernel drops its siginfo) */
	if (kill(getpid(), sig) != 0)
		die("cap: kill: %s", strerror(errno));
	for (int v = 0; v < CAP; v++)
		expect_wait(&s, sig, v, getpid());
	expect_none(&s);
	/* room again */
	queue(getpid(), sig, 1000);
	expect_wait(&s, sig, 1000, getpid());
	return 0;
}

static void test_cap(void)
{
	const char *self = "/proc/self/exe";
	pid_t c = fork();
	if (c < 0)
		die("fork: %s", strerror(errno));
	if (c == 0) {
		struct rlimit rl = {CAP, CAP};
		if (setrlimit(RLIMIT_SIGPENDING, &rl) != 0)
			_exit(3);
		/* the kernel counts a user's pending signals in all its
		 * processes: as root, become a user that has none */
		if (getuid() == 0 && (setgid(FRESH_UID) || setuid(FRESH_UID)))
			_exit(5);
		execl(self, self, "cap", (char *)NULL);
		_exit(4);
	}
	int st;
	if (waitpid(c, &st, 0) != c || !WIFEXITED(st) || WEXITSTATUS(st))
		die("cap: the child failed (status %#x)", st);
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "cap") == 0)
		return cap_child();
	/* no argument: all parts; else the parts named (debugging) */
	static const struct {
		const char *name;
		void (*f)(void);
	} parts[] = {{"fifo", test_fifo},       {"order", test_order},
		     {"handler", test_handler}, {"thread", test_thread},
		     {"standard", test_standard}, {"process", test_process},
		     {"capped", test_cap}};
	for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
		int want = argc == 1;
		for (int a = 1; a < argc; a++)
			want |= strcmp(argv[a], parts[i].name) == 0;
		if (want)
			parts[i].f();
	}
	printf("ok\n");
	return 0;
}
