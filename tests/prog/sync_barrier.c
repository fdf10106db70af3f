// sync_barrier: pthread barriers (shim/barrier.c).
//
// Why: greenrun's barrier parks the green threads on a round number and
// lets the last arrival wake them; a lost wake-up hangs a round, a wrong
// round count lets a thread run ahead.  Barriers are reused at once
// (round after round), which is where round-number schemes break.
//
// Checks:
//   - 16 threads x 1,000 rounds; each round: thread i writes
//     data[i] = round * 16 + i, waits, checks every data[j] == round * 16 + j
//     (the writes of all threads before the barrier are visible after it),
//     waits again (so nobody overwrites data[] while others still check).
//     Exactly one PTHREAD_BARRIER_SERIAL_THREAD per barrier wait (2,000
//     waits, counted per wait), every other return 0;
//   - pthread_barrier_init with count 0 -> EINVAL; count 1 -> every wait
//     returns PTHREAD_BARRIER_SERIAL_THREAD at once;
//   - barrierattr pshared round-trip, EINVAL for a bad value;
//   - destroy after the last round -> 0, then init again with another count
//     and use it (4 threads x 100 rounds).
// A round that never completes is caught by a SIGALRM watchdog (60 s) that
// prints how far each thread got.
// greenrun-test: env=GREENRUN_PROCS=1
// greenrun-test: env=GREENRUN_PROCS=2
// greenrun-test: timeout=90
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TEST_NAME "sync_barrier"
#include "sync_util.h"

#define N 16
#define ROUNDS 1000
#define WAITS (2 * ROUNDS)

static pthread_barrier_t bar;
static atomic_int data[N];
static atomic_int serial[WAITS];
static atomic_int other[WAITS];
static atomic_int progress[N];
static atomic_int bad_ret, bad_data;

static void on_alarm(int sig)
{
    (void)sig;
    char buf[64 * N + 100];
    int n = snprintf(buf, sizeof buf, "FAIL sync_barrier: watchdog: no completion in 60 s; waits done per thread:");
    for (int i = 0; i < N && n < (int)sizeof buf - 16; i++)
        n += snprintf(buf + n, sizeof buf - n, " %d", atomic_load(&progress[i]));
    n += snprintf(buf + n, sizeof buf - n, "\n");
    (void)!write(2, buf, n);
    _exit(1);
}

static void bwait(int w)
{
    int rc = pthread_barrier_wait(&bar);
    if (rc == PTHREAD_BARRIER_SERIAL_THREAD)
        atomic_fetch_add(&serial[w], 1);
    else if (rc == 0)
        atomic_fetch_add(&other[w], 1);
    else
        atomic_fetch_add(&bad_ret, 1);
}

static void *worker(void *arg)
{
    int me = (int)(intptr_t)arg;
    for (int r = 0; r < ROUNDS; r++) {
        atomic_store_explicit(&data[me], r * N + me, memory_order_relaxed);
        bwait(2 * r);
        for (int j = 0; j < N; j++)
            if (atomic_load_explicit(&data[j], memory_order_relaxed) != r * N + j)
                atomic_fetch_add(&bad_data, 1);
        bwait(2 * r + 1);
        atomic_store(&progress[me], r + 1);
    }
    return NULL;
}

static atomic_int b2_serial, b2_other;
static void *worker2(void *arg)
{
    (void)arg;
    for (int r = 0; r < 100; r++) {
        int rc = pthread_barrier_wait(&bar);
        if (rc == PTHREAD_BARRIER_SERIAL_THREAD)
            atomic_fetch_add(&b2_serial, 1);
        else if (rc == 0)
            atomic_fetch_add(&b2_other, 1);
        else
            atomic_fetch_add(&bad_ret, 1);
    }
    return NULL;
}

int main(void)
{
    signal(SIGALRM, on_alarm);
    alarm(60);

    pthread_barrier_t b0;
    EXPECT_RC(pthread_barrier_init(&b0, NULL, 0), EINVAL);
    EXPECT_RC(pthread_barrier_init(&b0, NULL, 1), 0);
    for (int i = 0; i < 3; i++)
        EXPECT_RC(pthread_barrier_wait(&b0), PTHREAD_BARRIER_SERIAL_THREAD);
    EXPECT_RC(pthread_barrier_destroy(&b0), 0);

    pthread_barrierattr_t a;
    int p;
    EXPECT_RC(pthread_barrierattr_init(&a), 0);
    EXPECT_RC(pthread_barrierattr_getpshared(&a, &p), 0);
    if (p != PTHREAD_PROCESS_PRIVATE)
        die("barrierattr default pshared: expected PRIVATE, got %d", p);
    EXPECT_RC(pthread_barrierattr_setpshared(&a, PTHREAD_PROCESS_SHARED), 0);
    EXPECT_RC(pthread_barrierattr_getpshared(&a, &p), 0);
    if (p != PTHREAD_PROCESS_SHARED)
        die("barrierattr pshared round-trip: expected SHARED, got %d", p);
    EXPECT_RC(pthread_barrierattr_setpshared(&a, 3), EINVAL);
    EXPECT_RC(pthread_barrierattr_setpshared(&a, PTHREAD_PROCESS_PRIVATE), 0);

    EXPECT_RC(pthread_barrier_init(&bar, &a, N), 0);
    EXPECT_RC(pthread_barrierattr_destroy(&a), 0);
    pthread_t t[N];
    for (int i = 0; i < N; i++)
        EXPECT_RC(pthread_create(&t[i], NULL, worker, (void *)(intptr_t)i), 0);
    for (int i = 0; i < N; i++)
        EXPECT_RC(pthread_join(t[i], NULL), 0);
    if (atomic_load(&bad_ret))
        die("pthread_barrier_wait returned something other than 0 / SERIAL %d times", atomic_load(&bad_ret));
    if (atomic_load(&bad_data))
        die("%d stale reads of data written before the barrier", atomic_load(&bad_data));
    for (int w = 0; w < WAITS; w++)
        if (atomic_load(&serial[w]) != 1 || atomic_load(&other[w]) != N - 1)
            die("barrier wait #%d (round %d): %d SERIAL_THREAD and %d zero returns, expected 1 and %d", w,
                w / 2, atomic_load(&serial[w]), atomic_load(&other[w]), N - 1);
    EXPECT_RC(pthread_barrier_destroy(&bar), 0);

    /* re-init the destroyed barrier with another count and use it */
    EXPECT_RC(pthread_barrier_init(&bar, NULL, 4), 0);
    pthread_t u[4];
    for (int i = 0; i < 4; i++)
        EXPECT_RC(pthread_create(&u[i], NULL, worker2, NULL), 0);
    for (int i = 0; i < 4; i++)
        EXPECT_RC(pthread_join(u[i], NULL), 0);
    if (atomic_load(&b2_serial) != 100 || atomic_load(&b2_other) != 300 || atomic_load(&bad_ret))
        die("4-thread barrier x 100 rounds: %d SERIAL and %d zero returns (%d bad), expected 100 and 300",
            atomic_load(&b2_serial), atomic_load(&b2_other), atomic_load(&bad_ret));
    EXPECT_RC(pthread_barrier_destroy(&bar), 0);
    alarm(0);
    printf("sync_barrier: OK\n");
    return 0;
}
