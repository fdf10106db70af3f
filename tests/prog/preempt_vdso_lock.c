// preempt_vdso_lock: a thread must never be preempted inside the vDSO
// while greenrun itself is running on its behalf with a runtime lock held.
//
// Why: found by compat/python_threads.sh (100,000 CPython threads hung with
// 0% CPU).  greenrun takes a wait-queue bucket lock in its futex wait and
// then reads the clock (clock_gettime -> __vdso_clock_gettime) to check the
// deadline.  Preemption refused PCs in libgreenrun, libc and ld.so, but not
// in the vDSO, so a SIGURG landing there preempted the G with the bucket
// lock held; the next G on that OS thread that touched the same bucket
// blocked the OS thread forever on the lock (self-deadlock), and with it
// the whole process.
//
// Reproducer: thread A spins for 2 s calling syscall(SYS_futex,
// FUTEX_WAIT_BITSET_PRIVATE) with a matching value and an absolute
// CLOCK_MONOTONIC deadline in the past: greenrun locks the bucket, reads
// the clock and returns ETIMEDOUT without parking, so A never switches,
// gets marked for preemption and is signalled about every millisecond,
// often while inside the vDSO with the lock held.  Thread B does the same
// on the same word but yields after every call, so it runs whenever A is
// preempted.  Checks: every call of both returns -1/ETIMEDOUT, B makes
// progress (it runs at least once), both finish (a deadlock hangs until
// the runner's timeout).  GREENRUN_PREEMPT_MS=1 makes the preemptions
// frequent.
// greenrun-test: env=GREENRUN_PROCS=1 GREENRUN_PREEMPT_MS=1
// greenrun-test: env=GREENRUN_PROCS=2 GREENRUN_PREEMPT_MS=1
// greenrun-test: timeout=30
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define TEST_NAME "preempt_vdso_lock"
#include "sync_util.h"

static uint32_t word;
static atomic_int stop;
static atomic_long calls_a, calls_b;

/* One FUTEX_WAIT_BITSET with a deadline long past: must time out at once. */
static void timed_out_wait(const char *who)
{
    struct timespec past = {1, 0};
    errno = 0;
    long r = syscall(SYS_futex, &word, FUTEX_WAIT_BITSET_PRIVATE, 0, &past, NULL,
                     FUTEX_BITSET_MATCH_ANY);
    if (r != -1 || errno != ETIMEDOUT)
        die("%s: futex wait returned %ld errno %d, want -1/ETIMEDOUT", who, r, errno);
}

static void *thread_a(void *arg)
{
    double end = now_s() + 2.0;
    while (now_s() < end) {
        for (int i = 0; i < 1000; i++)
            timed_out_wait("A");
        atomic_fetch_add(&calls_a, 1000);
    }
    atomic_store(&stop, 1);
    return NULL;
}

static void *thread_b(void *arg)
{
    while (!atomic_load(&stop)) {
        timed_out_wait("B");
        atomic_fetch_add(&calls_b, 1);
        sched_yield();
    }
    return NULL;
}

int main(void)
{
    pthread_t a, b;
    EXPECT_RC(pthread_create(&a, NULL, thread_a, NULL), 0);
    EXPECT_RC(pthread_create(&b, NULL, thread_b, NULL), 0);
    EXPECT_RC(pthread_join(a, NULL), 0);
    EXPECT_RC(pthread_join(b, NULL), 0);
    if (atomic_load(&calls_b) < 1)
        die("thread B never ran beside the spinning thread A");
    printf("ok: A made %ld timed-out waits, B %ld, no deadlock\n", atomic_load(&calls_a),
           atomic_load(&calls_b));
    return 0;
}
