/* Regressions from the Open POSIX Test Suite run under greenrun (each was
 * a greenrun-only failure; natively all pass):
 *  1. a signal blocked only by the running handler's sa_mask stays pending
 *     and is delivered when the handler returns (sigpending/1-2);
 *  2. a signal raised inside its own handler is delivered right after the
 *     handler returns, also SIGBUS sent with raise() (sigaction/23-N);
 *  3. sigwaitinfo reports a raise()d signal as SI_USER (glibc's view);
 *  4. a handler runs on a thread while it waits for a mutex, and the wait
 *     goes on (mutex_lock/5-1);
 *  5. sem_wait on a process-shared semaphore fails with EINTR when a
 *     handler without SA_RESTART runs (sem_wait/7-1);
 *  6. asynchronous cancellation acts on a thread blocked in
 *     pthread_mutex_lock (setcanceltype/1-1);
 *  7. SIGSEGV sent with kill() by another process (not a fault) runs the
 *     handler and interrupts select() (sigaction/17-N);
 *  8. kill(getpid()) reaches the one thread that does not block the
 *     signal, 2,000 times, while senders wait for each handler. */
// greenrun-test: env=GREENRUN_PROCS=1
// greenrun-test: env=GREENRUN_PROCS=2
// greenrun-test: timeout=120
#define TEST_NAME "sig_posix"
#include "sync_util.h"

#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/select.h>
#include <sys/wait.h>
#include <unistd.h>

static atomic_int calls[65];
static volatile int pend_in_handler = -1;

static void h_count(int s) { atomic_fetch_add(&calls[s], 1); }

static void h_raise_other(int s)
{
	atomic_fetch_add(&calls[s], 1);
	raise(SIGUSR2); /* blocked by sa_mask */
	sigset_t p;
	sigpending(&p);
	pend_in_handler = sigismember(&p, SIGUSR2);
}

static void h_raise_self(int s)
{
	if (atomic_fetch_add(&calls[s], 1) == 0)
		raise(s);
}

static void on(int sig, void (*h)(int), int flags, int masked)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = h;
	sa.sa_flags = flags;
	sigemptyset(&sa.sa_mask);
	if (masked)
		sigaddset(&sa.sa_mask, masked);
	sigaction(sig, &sa, NULL);
}

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static atomic_int waiting;
static void *lock_waiter(void *a)
{
	atomic_store(&waiting, 1);
	pthread_mutex_lock(&mu);
	pthread_mutex_unlock(&mu);
	return NULL;
}

static void *lock_waiter_async(void *a)
{
	pthread_setcanceltype(PTHREAD_CANCEL_ASYNCHRONOUS, NULL);
	atomic_store(&waiting, 1);
	pthread_mutex_lock(&mu);
	return (void *)1;
}

static sem_t *psem;
static int sem_ret, sem_err;
static void *sem_waiter(void *a)
{
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGALRM);
	pthread_sigmask(SIG_UNBLOCK, &s, NULL);
	alarm(1);
	errno = 0;
	sem_ret = sem_wait(psem);
	sem_err = errno;
	return NULL;
}

static sem_t s1;
static sigset_t usr1;
static atomic_int stop;
static void h_post(int s) { atomic_fetch_add(&calls[s], 1); sem_post(&s1); }
static void *taker(void *a)
{
	pthread_sigmask(SIG_UNBLOCK, &usr1, NULL);
	while (!atomic_load(&stop))
		sched_yield();
	return NULL;
}

int main(void)
{
	/* 1 */
	on(SIGUSR1, h_raise_other, 0, SIGUSR2);
	on(SIGUSR2, h_count, 0, 0);
	raise(SIGUSR1);
	if (pend_in_handler != 1 || atomic_load(&calls[SIGUSR2]) != 1)
		die("1: SIGUSR2 pending in handler %d, delivered %d",
		    pend_in_handler, atomic_load(&calls[SIGUSR2]));
	/* 2 */
	int sigs[] = {SIGUSR1, SIGBUS};
	for (int i = 0; i < 2; i++) {
		on(sigs[i], h_raise_self, 0, 0);
		atomic_store(&calls[sigs[i]], 0);
		raise(sigs[i]);
		if (atomic_load(&calls[sigs[i]]) != 2)
			die("2: signal %d: %d handler calls after raise, want 2",
			    sigs[i], atomic_load(&calls[sigs[i]]));
	}
	/* 3 */
	sigset_t w;
	sigemptyset(&w);
	sigaddset(&w, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &w, NULL);
	raise(SIGUSR2);
	siginfo_t si;
	if (sigwaitinfo(&w, &si) != SIGUSR2 || si.si_code != SI_USER)
		die("3: si_code %d, want SI_USER", si.si_code);
	pthread_sigmask(SIG_UNBLOCK, &w, NULL);
	/* 4 */
	on(SIGUSR2, h_count, 0, 0);
	atomic_store(&calls[SIGUSR2], 0);
	pthread_mutex_lock(&mu);
	pthread_t t;
	EXPECT_RC(pthread_create(&t, NULL, lock_waiter, NULL), 0);
	while (!atomic_load(&waiting))
		ms_sleep(1);
	for (int i = 0; i < 10000 && atomic_load(&calls[SIGUSR2]) == 0; i++) {
		if (i % 10 == 0)
			pthread_kill(t, SIGUSR2);
		ms_sleep(1);
	}
	if (atomic_load(&calls[SIGUSR2]) == 0)
		die("4: no handler while waiting for the mutex");
	pthread_mutex_unlock(&mu);
	EXPECT_RC(pthread_join(t, NULL), 0);
	/* 5 */
	on(SIGALRM, h_count, 0, 0);
	psem = mmap(NULL, sizeof(sem_t), PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	sem_init(psem, 1, 0);
	sigemptyset(&w);
	sigaddset(&w, SIGALRM);
	pthread_sigmask(SIG_BLOCK, &w, NULL); /* only the waiter takes it */
	EXPECT_RC(pthread_create(&t, NULL, sem_waiter, NULL), 0);
	EXPECT_RC(pthread_join(t, NULL), 0);
	pthread_sigmask(SIG_UNBLOCK, &w, NULL);
	if (sem_ret != -1 || sem_err != EINTR)
		die("5: pshared sem_wait gave %d errno %d, want -1 EINTR",
		    sem_ret, sem_err);
	/* 6 */
	atomic_store(&waiting, 0);
	pthread_mutex_lock(&mu);
	EXPECT_RC(pthread_create(&t, NULL, lock_waiter_async, NULL), 0);
	while (!atomic_load(&waiting))
		ms_sleep(1);
	EXPECT_RC(pthread_cancel(t), 0); /* acts wherever it is */
	void *r;
	EXPECT_RC(pthread_join(t, &r), 0);
	if (r != PTHREAD_CANCELED)
		die("6: async cancel in mutex wait: %p", r);
	pthread_mutex_unlock(&mu);
	/* 7 */
	int ready[2];
	if (pipe(ready))
		die("pipe");
	pid_t c = fork();
	if (c == 0) {
		on(SIGSEGV, h_count, 0, 0);
		if (write(ready[1], "r", 1) != 1)
			_exit(2);
		/* the signal may land before a select: then the next one
		 * (the parent repeats it until we exit) interrupts it */
		for (int i = 0; i < 100; i++) {
			struct timeval tv = {1, 0};
			if (select(0, NULL, NULL, NULL, &tv) == -1 &&
			    errno == EINTR)
				_exit(atomic_load(&calls[SIGSEGV]) >= 1 ? 0 : 3);
		}
		_exit(1);
	}
	char rb;
	if (read(ready[0], &rb, 1) != 1)
		die("7: child not ready");
	int st;
	for (;;) {
		kill(c, SIGSEGV);
		ms_sleep(20); /* pacing only */
		if (waitpid(c, &st, WNOHANG) == c)
			break;
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		die("7: child status %#x", st);
	/* 8 */
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &usr1, NULL);
	on(SIGUSR1, h_post, 0, 0);
	atomic_store(&calls[SIGUSR1], 0);
	sem_init(&s1, 0, 0);
	EXPECT_RC(pthread_create(&t, NULL, taker, NULL), 0);
	for (int i = 0; i < 2000; i++) {
		kill(getpid(), SIGUSR1);
		while (sem_wait(&s1) != 0)
			;
	}
	atomic_store(&stop, 1);
	EXPECT_RC(pthread_join(t, NULL), 0);
	if (atomic_load(&calls[SIGUSR1]) != 2000)
		die("8: %d handler calls", atomic_load(&calls[SIGUSR1]));
	printf("sig_posix ok\n");
	return 0;
}
