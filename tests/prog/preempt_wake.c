// preempt_wake: a thread woken by its timer while every P runs a CPU-bound
// thread gets the CPU at once (wake-up preemption), not at the end of the
// running thread's time slice.
//
// Why: GREENRUN_PREEMPT_MS=100000 stretches the slice to 100 s, so the only
// thing that can run main's expired sleeps while the hogs spin is the
// wake-up preemption (runtime/preempt.c: the per-M timer armed when a P's
// earliest timer is added while other threads wait to run).  Regressions
// this catches, each a hang (runner timeout) here:
//   - the wake-up timer not armed when the waiting threads sit on the
//     global queue (where preempted threads go);
//   - the woken thread left in runnext while findrunnable's every-61st-tick
//     fairness pick ran a global-queue hog for a whole slice instead
//     (found by bench/tick.c as 20 ms ticks).
// One hog is pure arithmetic; the other lives in libc's memcpy/memset
// (unsafe points: a wake-up there must be retried, not dropped).
// main sleeps 1 ms 300 times; each sleep must return.  (Hog progress is
// not checked: with a 100 s slice a hog queued on the other P's local queue
// may rightly wait; bench/tick.c checks fair shares at the real slice, and
// the lateness figures.)
// greenrun-test: env=GREENRUN_PROCS=1 GREENRUN_PREEMPT_MS=100000
// greenrun-test: env=GREENRUN_PROCS=2 GREENRUN_PREEMPT_MS=100000
// greenrun-test: timeout=60
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define NHOG 4
#define NSLEEP 300

static atomic_int stop;
static volatile long count[NHOG];

static void *hog(void *a)
{
	long i = (long)(intptr_t)a;
	static char src[NHOG][4096], dst[NHOG][4096];
	double x = 1.0;
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		if (i % 2) {
			memset(src[i], (int)count[i], sizeof src[i]);
			memcpy(dst[i], src[i], sizeof dst[i]);
		} else {
			for (int k = 0; k < 1000; k++)
				x = x * 1.0000001 + 0.5;
		}
		count[i]++;
	}
	return (void *)(intptr_t)(x > 0);
}

int main(void)
{
	pthread_t t[NHOG];
	for (long i = 0; i < NHOG; i++)
		if (pthread_create(&t[i], NULL, hog, (void *)(intptr_t)i) != 0) {
			printf("pthread_create failed\n");
			return 1;
		}
	int slept = 0;
	for (int i = 0; i < NSLEEP; i++) {
		struct timespec ts = {0, 1000000};
		if (nanosleep(&ts, NULL) != 0) {
			printf("nanosleep %d failed\n", i);
			return 1;
		}
		slept++;
	}
	atomic_store(&stop, 1);
	for (int i = 0; i < NHOG; i++)
		pthread_join(t[i], NULL);
	if (slept != NSLEEP) {
		printf("slept %d of %d\n", slept, NSLEEP);
		return 1;
	}
	printf("ok: %d sleeps beside %d hogs\n", slept, NHOG);
	return 0;
}
