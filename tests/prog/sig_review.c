/* Regressions from a fresh-eyes review of signal handling:
 *  1. waitpid interrupted by alarm (handler without SA_RESTART) returns
 *     -1/EINTR with the handler already run (it ran late before);
 *  2. sem_wait interrupted by a handler with SA_RESTART is restarted and
 *     returns 0 once posted (signal(7));
 *  3. sigpending(NULL) fails with EFAULT instead of crashing. */
// greenrun-test: env=GREENRUN_PROCS=1
// greenrun-test: env=GREENRUN_PROCS=2
#define TEST_NAME "sig_review"
#include "sync_util.h"

#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t fired;
static void h(int s) { fired++; }

static sem_t sem;
static atomic_int in_wait;
static int sem_ret = -2, sem_err;
static void *sem_waiter(void *a)
{
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGALRM);
	pthread_sigmask(SIG_UNBLOCK, &s, NULL);
	atomic_store(&in_wait, 1);
	alarm(1);
	errno = 0;
	sem_ret = sem_wait(&sem);
	sem_err = errno;
	return NULL;
}

int main(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = h;
	sigaction(SIGALRM, &sa, NULL);
	pid_t c = fork();
	if (c == 0) {
		sleep(3);
		_exit(0);
	}
	alarm(1);
	errno = 0;
	pid_t r = waitpid(c, NULL, 0);
	int e = errno, f = fired;
	if (r != -1 || e != EINTR || f != 1)
		die("1: waitpid %d errno %d, handler ran %d at return", (int)r,
		    e, f);
	kill(c, SIGKILL);
	waitpid(c, NULL, 0);

	sa.sa_flags = SA_RESTART;
	sigaction(SIGALRM, &sa, NULL);
	sem_init(&sem, 0, 0);
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGALRM);
	pthread_sigmask(SIG_BLOCK, &s, NULL); /* the waiter takes it */
	pthread_t t;
	EXPECT_RC(pthread_create(&t, NULL, sem_waiter, NULL), 0);
	while (fired < 2)
		ms_sleep(5);
	ms_sleep(50); /* the waiter is back in sem_wait or about to be */
	sem_post(&sem);
	EXPECT_RC(pthread_join(t, NULL), 0);
	if (sem_ret != 0)
		die("2: sem_wait with SA_RESTART gave %d errno %d", sem_ret,
		    sem_err);

	errno = 0;
	if (sigpending(NULL) != -1 || errno != EFAULT)
		die("3: sigpending(NULL) errno %d", errno);
	printf("sig_review ok\n");
	return 0;
}
