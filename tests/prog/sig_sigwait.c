/* The "block every signal, one thread calls sigwait" server pattern
 * (issue #6, acceptance 2): the main thread blocks everything, starts
 * 10,000 workers parked on a condition variable and one sigwait thread,
 * then sends SIGTERM to the whole process with kill().  The sigwait thread
 * must receive it (with the sender's pid and SI_USER), set the stop flag
 * and wake the workers; everyone is joined.  Then sigqueue() values and a
 * real-time signal reach sigwaitinfo, and sigtimedwait times out with
 * EAGAIN when nothing is pending. */
// greenrun-test: env=GREENRUN_PROCS=1
// greenrun-test: env=GREENRUN_PROCS=2
// greenrun-test: timeout=120
#define TEST_NAME "sig_sigwait"
#include "sync_util.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#define NWORKERS 10000

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int stop, parked;
static siginfo_t got;

static void *worker(void *arg)
{
	pthread_mutex_lock(&mu);
	parked++;
	pthread_cond_broadcast(&cv);
	while (!stop)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	return NULL;
}

static void *waiter(void *arg)
{
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGTERM);
	sigaddset(&s, SIGINT);
	if (sigwaitinfo(&s, &got) != SIGTERM)
		die("sigwaitinfo: %s", strerror(errno));
	pthread_mutex_lock(&mu);
	stop = 1;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
	return NULL;
}

int main(void)
{
	static pthread_t w[NWORKERS];
	sigset_t all;
	sigfillset(&all);
	EXPECT_RC(pthread_sigmask(SIG_BLOCK, &all, NULL), 0);
	pthread_attr_t a;
	pthread_attr_init(&a);
	pthread_attr_setstacksize(&a, 64 * 1024);
	for (int i = 0; i < NWORKERS; i++)
		EXPECT_RC(pthread_create(&w[i], &a, worker, NULL), 0);
	pthread_t sw;
	EXPECT_RC(pthread_create(&sw, NULL, waiter, NULL), 0);
	pthread_mutex_lock(&mu);
	while (parked < NWORKERS)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	if (kill(getpid(), SIGTERM) != 0)
		die("kill");
	EXPECT_RC(pthread_join(sw, NULL), 0);
	for (int i = 0; i < NWORKERS; i++)
		EXPECT_RC(pthread_join(w[i], NULL), 0);
	if (got.si_signo != SIGTERM || got.si_code != SI_USER ||
	    got.si_pid != getpid())
		die("siginfo: signo %d code %d pid %d, want %d %d %d",
		    got.si_signo, got.si_code, got.si_pid, SIGTERM, SI_USER,
		    getpid());

	/* sigqueue values through sigwaitinfo, on the main thread */
	sigset_t rt;
	sigemptyset(&rt);
	sigaddset(&rt, SIGRTMIN + 1);
	union sigval v = {.sival_int = 4242};
	if (sigqueue(getpid(), SIGRTMIN + 1, v) != 0)
		die("sigqueue");
	siginfo_t si;
	if (sigwaitinfo(&rt, &si) != SIGRTMIN + 1)
		die("sigwaitinfo rt: %s", strerror(errno));
	if (si.si_code != SI_QUEUE || si.si_value.sival_int != 4242)
		die("rt siginfo: code %d value %d", si.si_code,
		    si.si_value.sival_int);

	/* nothing pending: sigtimedwait times out */
	struct timespec ts = {0, 20 * 1000000};
	errno = 0;
	if (sigtimedwait(&rt, &si, &ts) != -1 || errno != EAGAIN)
		die("sigtimedwait: want -1 EAGAIN, errno %d", errno);

	/* a blocked signal stays pending and shows in sigpending */
	if (kill(getpid(), SIGUSR2) != 0)
		die("kill usr2");
	sigset_t p;
	for (int i = 0; i < 1000; i++) {
		sigpending(&p);
		if (sigismember(&p, SIGUSR2))
			break;
		ms_sleep(1);
	}
	if (!sigismember(&p, SIGUSR2))
		die("SIGUSR2 not pending");
	sigset_t u;
	sigemptyset(&u);
	sigaddset(&u, SIGUSR2);
	int sig = 0;
	EXPECT_RC(sigwait(&u, &sig), 0);
	if (sig != SIGUSR2)
		die("sigwait gave %d", sig);
	sigpending(&p);
	if (sigismember(&p, SIGUSR2))
		die("SIGUSR2 still pending after sigwait");
	printf("sig_sigwait ok\n");
	return 0;
}
