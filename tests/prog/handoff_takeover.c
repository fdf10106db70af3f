// handoff_takeover: after sysmon hands a P off while its thread is in a
// system call, and the P's new OS thread is itself in a system call when
// the first one returns, the first takes the P over; preemption must then
// still find the thread that runs on it.
//
// Why: the P kept the name of the OS thread that had lost it; sysmon sent
// its preemption requests there, and a thread that never blocked kept the
// only P for good.  Found by the Open POSIX test pthread_cond_timedwait/2-5
// with GREENRUN_PROCS=1 (main polling a counter under a process-shared
// mutex, whose futex system calls caused the hand-offs).
//
// Shape: one P; 4 threads each make 1,500 raw system calls that block
// 20-60 us (syscall(SYS_nanosleep): greenrun cannot park those, so sysmon
// hands the P off after ~20 us), which makes the takeover race happen many
// times; meanwhile a fifth thread spins without any call until main, after
// joining the 4, tells it to stop.  The 4 can only get the P back from the
// spinner through preemption: with the stale P owner the run hangs (the
// runner's timeout).  Checks: every system call returned 0 and the
// spinner made progress.
// greenrun-test: env=GREENRUN_PROCS=1
// greenrun-test: env=GREENRUN_PROCS=2
// greenrun-test: timeout=60
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define NSYS 4
#define CALLS 1500

static atomic_int stop;
static atomic_long failures;
static volatile long spins;

static void *syscaller(void *a)
{
	long k = (long)(intptr_t)a;
	for (int i = 0; i < CALLS; i++) {
		struct timespec ts = {0, 20000 + ((i * 7 + k * 13) % 5) * 10000};
		if (syscall(SYS_nanosleep, &ts, NULL) != 0)
			atomic_fetch_add(&failures, 1);
	}
	return NULL;
}

static void *spinner(void *a)
{
	while (!atomic_load_explicit(&stop, memory_order_relaxed))
		spins++; /* no calls: only preemption takes the P away */
	return NULL;
}

int main(void)
{
	pthread_t s, t[NSYS];
	if (pthread_create(&s, NULL, spinner, NULL) != 0)
		return 1;
	for (long i = 0; i < NSYS; i++)
		if (pthread_create(&t[i], NULL, syscaller, (void *)(intptr_t)i) != 0)
			return 1;
	for (int i = 0; i < NSYS; i++)
		pthread_join(t[i], NULL);
	atomic_store(&stop, 1);
	pthread_join(s, NULL);
	long f = atomic_load(&failures);
	if (f != 0 || spins <= 0) {
		printf("failures=%ld spins=%ld\n", f, spins);
		return 1;
	}
	printf("ok: %d raw system calls, spinner ran\n", NSYS * CALLS);
	return 0;
}
