// preempt_spin: CPU-bound threads that never block or call anything must
// not stop other threads from running.
//
// Why: with GREENRUN_PROCS=1 there is one P.  Without asynchronous
// preemption, (1) a thread spinning on a flag that only another thread
// will set would spin forever (natively the kernel time-slices them), and
// (2) main sleeping while spinners run would never wake up.  Both are
// deadlocks that native threads do not have.
//   1. A waits (pure spin, no calls) for a flag B sets; B is created after
//      A.  Both on one P.  Must complete.
//   2. 4 spinners count iterations until main, after nanosleep(50 ms) x 10,
//      sets stop.  Every spinner must have made progress (count > 0) and
//      main's 10 sleeps must all have returned.
// Fairness ratios and tick lateness are measured by bench/tick.c.
// greenrun-test: env=GREENRUN_PROCS=1
// greenrun-test: env=GREENRUN_PROCS=2
// greenrun-test: timeout=60
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

static atomic_int flag, stop;
static volatile long count[4];

static void *waiter(void *a)
{
	while (!atomic_load_explicit(&flag, memory_order_acquire))
		; /* no calls: only preemption lets B run on one P */
	return (void *)7;
}

static void *setter(void *a)
{
	atomic_store_explicit(&flag, 1, memory_order_release);
	return (void *)8;
}

static void *spinner(void *a)
{
	long i = (long)(intptr_t)a;
	while (!atomic_load_explicit(&stop, memory_order_relaxed))
		count[i]++;
	return NULL;
}

int main(void)
{
	pthread_t a, b, s[4];
	void *ra, *rb;
	if (pthread_create(&a, NULL, waiter, NULL) ||
	    pthread_create(&b, NULL, setter, NULL))
		return 1;
	pthread_join(a, &ra);
	pthread_join(b, &rb);
	if ((intptr_t)ra != 7 || (intptr_t)rb != 8) {
		fprintf(stderr, "FAIL preempt_spin: join values %ld %ld, expected 7 8\n",
			(long)(intptr_t)ra, (long)(intptr_t)rb);
		return 1;
	}
	for (intptr_t i = 0; i < 4; i++)
		if (pthread_create(&s[i], NULL, spinner, (void *)i))
			return 1;
	int sleeps = 0;
	for (int i = 0; i < 10; i++) {
		struct timespec ts = {0, 50 * 1000000};
		if (nanosleep(&ts, NULL) == 0)
			sleeps++;
	}
	atomic_store(&stop, 1);
	for (int i = 0; i < 4; i++)
		pthread_join(s[i], NULL);
	for (int i = 0; i < 4; i++)
		if (count[i] == 0) {
			fprintf(stderr, "FAIL preempt_spin: spinner %d never ran\n", i);
			return 1;
		}
	if (sleeps != 10) {
		fprintf(stderr, "FAIL preempt_spin: %d of 10 sleeps returned 0\n", sleeps);
		return 1;
	}
	printf("preempt_spin: OK\n");
	return 0;
}
