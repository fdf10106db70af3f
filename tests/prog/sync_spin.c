// sync_spin: pthread spinlocks (shim/spin.c).
//
// Why: a spinlock has no wait queue; on green threads a spinning thread
// can keep the holder from ever running again (one P, or a holder that
// parks or yields while holding the lock).  greenrun's spinner yields its
// P after a burst of attempts; this test checks mutual exclusion and that
// progress is guaranteed in exactly that situation.
//
// Checks:
//   - 8 threads x 100,000 lock / increment / unlock of one spinlock ->
//     counter exactly 800,000 (the increment is a non-atomic read, a
//     compiler barrier, then a write, so a lost exclusion loses counts);
//     an atomic "inside" counter is 1 inside every critical section;
//   - the holder sleeps and yields while holding: 20 rounds of a holder
//     that takes the lock, lets 4 spinners start spinning on it (they
//     announce themselves before pthread_spin_lock), then calls
//     sched_yield() 3 times and nanosleep(1 ms) 3 times while holding it,
//     then unlocks; every spinner gets the lock exactly once per round
//     (exact count 20 x 4 = 80) and never while the holder is inside.
//     With GREENRUN_PROCS=1 the spinners and the holder share one P.
//   - pthread_spin_trylock on a held lock -> EBUSY, on a free one -> 0;
//     init with PTHREAD_PROCESS_PRIVATE and PTHREAD_PROCESS_SHARED -> 0.
// Bounded: a SIGALRM watchdog (60 s) reports where it got stuck.
// greenrun-test: env=GREENRUN_PROCS=1
// greenrun-test: env=GREENRUN_PROCS=2
// greenrun-test: timeout=90
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define TEST_NAME "sync_spin"
#include "sync_util.h"

static volatile sig_atomic_t phase;   /* for the watchdog message */
static atomic_int round_no, round_got;

static void on_alarm(int sig)
{
    (void)sig;
    char buf[200];
    int n = snprintf(buf, sizeof buf, "FAIL sync_spin: watchdog: stuck for 60 s in phase %d (holder round %d, "
                     "%d spinners through)\n", (int)phase, atomic_load(&round_no), atomic_load(&round_got));
    (void)!write(2, buf, n);
    _exit(1);
}

/* ---------------- counter ---------------- */
#define NT 8
#define ITERS 100000
static pthread_spinlock_t lk;
static long counter;
static atomic_int inside, overlap;

static void *inc_worker(void *arg)
{
    (void)arg;
    for (int i = 0; i < ITERS; i++) {
        int rc = pthread_spin_lock(&lk);
        if (rc)
            die("pthread_spin_lock returned %d", rc);
        if (atomic_fetch_add(&inside, 1) != 0)
            atomic_fetch_add(&overlap, 1);
        long v = counter;
        __asm__ volatile("" ::: "memory");
        counter = v + 1;
        atomic_fetch_sub(&inside, 1);
        pthread_spin_unlock(&lk);
    }
    return NULL;
}

/* ---------------- holder yields / sleeps ---------------- */
#define NSPIN 4
#define HROUNDS 20
static pthread_spinlock_t hl;
static atomic_int spinning, holder_inside, bad_entry, got[NSPIN];
static atomic_int go_round;       /* round the spinners may start */

static void *spinner(void *arg)
{
    int me = (int)(intptr_t)arg;
    for (int r = 1; r <= HROUNDS; r++) {
        double deadline = now_s() + 30;
        while (atomic_load(&go_round) < r) {
            if (now_s() > deadline)
                die("spinner %d: round %d never started", me, r);
            sched_yield();
        }
        atomic_fetch_add(&spinning, 1);
        int rc = pthread_spin_lock(&hl);      /* held by the holder: spins */
        if (rc)
            die("spinner: pthread_spin_lock returned %d", rc);
        if (atomic_load(&holder_inside))
            atomic_fetch_add(&bad_entry, 1);
        atomic_fetch_add(&got[me], 1);
        atomic_fetch_add(&round_got, 1);
        pthread_spin_unlock(&hl);
    }
    return NULL;
}

int main(void)
{
    signal(SIGALRM, on_alarm);
    alarm(60);

    pthread_spinlock_t s2;
    EXPECT_RC(pthread_spin_init(&s2, PTHREAD_PROCESS_SHARED), 0);
    EXPECT_RC(pthread_spin_destroy(&s2), 0);

    phase = 1;
    EXPECT_RC(pthread_spin_init(&lk, PTHREAD_PROCESS_PRIVATE), 0);
    EXPECT_RC(pthread_spin_trylock(&lk), 0);
    EXPECT_RC(pthread_spin_trylock(&lk), EBUSY);
    EXPECT_RC(pthread_spin_unlock(&lk), 0);
    pthread_t t[NT];
    for (int i = 0; i < NT; i++)
        EXPECT_RC(pthread_create(&t[i], NULL, inc_worker, NULL), 0);
    for (int i = 0; i < NT; i++)
        EXPECT_RC(pthread_join(t[i], NULL), 0);
    if (counter != (long)NT * ITERS || atomic_load(&overlap))
        die("spinlock counter: expected %ld, got %ld (%d overlapping critical sections)", (long)NT * ITERS,
            counter, atomic_load(&overlap));
    EXPECT_RC(pthread_spin_destroy(&lk), 0);

    phase = 2;
    EXPECT_RC(pthread_spin_init(&hl, PTHREAD_PROCESS_PRIVATE), 0);
    pthread_t s[NSPIN];
    for (int i = 0; i < NSPIN; i++)
        EXPECT_RC(pthread_create(&s[i], NULL, spinner, (void *)(intptr_t)i), 0);
    for (int r = 1; r <= HROUNDS; r++) {
        atomic_store(&round_no, r);
        EXPECT_RC(pthread_spin_lock(&hl), 0);
        atomic_store(&holder_inside, 1);
        atomic_store(&spinning, 0);
        atomic_store(&go_round, r);
        /* wait (yielding, with the lock held) until all spinners spin */
        double deadline = now_s() + 30;
        while (atomic_load(&spinning) < NSPIN) {
            if (now_s() > deadline)
                die("holder round %d: only %d of %d spinners arrived", r, atomic_load(&spinning), NSPIN);
            sched_yield();
        }
        for (int k = 0; k < 3; k++) {
            sched_yield();
            struct timespec ms1 = { 0, 1000000L };
            nanosleep(&ms1, NULL);
        }
        if (pthread_spin_trylock(&hl) != EBUSY)
            die("holder round %d: trylock on the lock it holds did not return EBUSY", r);
        atomic_store(&holder_inside, 0);
        EXPECT_RC(pthread_spin_unlock(&hl), 0);
        /* all spinners through this round before the next */
        deadline = now_s() + 30;
        while (atomic_load(&round_got) < r * NSPIN) {
            if (now_s() > deadline)
                die("round %d: only %d of %d spinners got the lock after it was released", r,
                    atomic_load(&round_got) - (r - 1) * NSPIN, NSPIN);
            sched_yield();
        }
    }
    for (int i = 0; i < NSPIN; i++)
        EXPECT_RC(pthread_join(s[i], NULL), 0);
    if (atomic_load(&bad_entry))
        die("spinners got the lock %d times while the holder was inside", atomic_load(&bad_entry));
    for (int i = 0; i < NSPIN; i++)
        if (atomic_load(&got[i]) != HROUNDS)
            die("spinner %d got the lock %d times, expected %d", i, atomic_load(&got[i]), HROUNDS);
    EXPECT_RC(pthread_spin_destroy(&hl), 0);
    alarm(0);
    printf("sync_spin: OK\n");
    return 0;
}
