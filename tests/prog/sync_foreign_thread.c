// sync_foreign_thread: OS threads greenrun did not create (glibc's own
// timer_create(SIGEV_THREAD) helper) may lock, wait for and unlock the
// program's mutexes and signal its condvars.
//
// Why (found by a fresh-eyes review): such a thread has no G.  A
// callback locking a mutex that a green thread held crashed greenrun
// (rt_intr on a NULL G), and one signalling a condvar crashed in ready()
// (no M).  Now it blocks its own OS thread, has an owner id of its own
// (2^30 | its TID) and wakes green threads through the global queue.
//
// The timer fires every 5 ms.  Its callback locks an errorcheck mutex
// (relocking gives EDEADLK: it has an identity), counts, and signals.
// Main holds the mutex for 20 ms at a time in 5 rounds (so callbacks
// wait for it), then waits on the condvar until 10 callbacks ran.
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>

static pthread_mutex_t mu;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int fired, bad;

static void notify(union sigval v)
{
	(void)v;
	if (pthread_mutex_lock(&mu) != 0) {
		bad++;
		return;
	}
	if (pthread_mutex_lock(&mu) != EDEADLK) /* errorcheck: it is ours */
		bad++;
	fired++;
	pthread_cond_signal(&cv);
	if (pthread_mutex_unlock(&mu) != 0)
		bad++;
}

int main(void)
{
	pthread_mutexattr_t a;
	pthread_mutexattr_init(&a);
	pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK);
	pthread_mutex_init(&mu, &a);
	timer_t tm;
	struct sigevent se = {.sigev_notify = SIGEV_THREAD,
			      .sigev_notify_function = notify};
	if (timer_create(CLOCK_MONOTONIC, &se, &tm) != 0) {
		perror("timer_create");
		return 1;
	}
	struct itimerspec its = {{0, 5000000}, {0, 5000000}};
	timer_settime(tm, 0, &its, NULL);
	for (int i = 0; i < 5; i++) { /* callbacks wait for main */
		pthread_mutex_lock(&mu);
		nanosleep(&(struct timespec){0, 20000000}, NULL);
		pthread_mutex_unlock(&mu);
	}
	pthread_mutex_lock(&mu);
	while (fired < 10) /* woken by the callbacks */
		pthread_cond_wait(&cv, &mu);
	int f = fired, b = bad;
	pthread_mutex_unlock(&mu);
	timer_delete(tm);
	if (b) {
		fprintf(stderr, "FAIL sync_foreign_thread: %d wrong results in "
			"the callback\n", b);
		return 1;
	}
	printf("sync_foreign_thread: %s callbacks, none wrong\n",
	       f >= 10 ? ">= 10" : "too few");
	return 0;
}
