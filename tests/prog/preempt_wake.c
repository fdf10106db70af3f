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
// Part 2, the same for I/O: main blocks in read() on a timerfd that ticks
// every ms while the hogs spin; nothing schedules, so only sysmon's netpoll
// (runtime/sysmon.c: every P stuck in a long-running G) and its wake-up
// preemption get main going; the woken thread must then overtake the
// preempted hogs, also those a P had moved to its local queue (runq.c).
// Before, such reads waited for the 61st schedule of a P: 1.3 s p50 beside
// 4 hogs at the normal 10 ms slice.
// main sleeps 1 ms 300 times, then reads 300 timerfd ticks; each must
// return.  (Hog progress is
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
#include <unistd.h>
#include <sys/timerfd.h>

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
	int fd = timerfd_create(CLOCK_MONOTONIC, 0);
	struct itimerspec its = {{0, 1000000}, {0, 1000000}};
	if (fd < 0 || timerfd_settime(fd, 0, &its, NULL) != 0) {
		printf("timerfd failed\n");
		return 1;
	}
	long ticks = 0;
	while (ticks < NSLEEP) {
		uint64_t n;
		if (read(fd, &n, sizeof n) != sizeof n || n == 0) {
			printf("timerfd read failed after %ld ticks\n", ticks);
			return 1;
		}
		ticks += (long)n;
	}
	close(fd);
	atomic_store(&stop, 1);
	for (int i = 0; i < NHOG; i++)
		pthread_join(t[i], NULL);
	if (slept != NSLEEP) {
		printf("slept %d of %d\n", slept, NSLEEP);
		return 1;
	}
	printf("ok: %d sleeps and %ld timerfd ticks beside %d hogs\n", slept,
	       ticks, NHOG);
	return 0;
}
