// sync_futex: syscall(SYS_futex, ...) used directly (shim/futex.c).
//
// Why: hand-written locks and C++20's std::atomic::wait call the futex
// system call through syscall(); greenrun turns the process-private
// operations into its green wait queue, so it must give the kernel's
// results: return values, errno, timeouts, wake counts and bitset matching.
//
// Checks:
//   - FUTEX_WAIT_PRIVATE when the word differs from val -> -1/EAGAIN;
//   - FUTEX_WAIT_PRIVATE with a 20 ms relative timeout -> -1/ETIMEDOUT,
//     after >= 20 ms (CLOCK_MONOTONIC); a bad timeout (tv_nsec = 1e9) ->
//     -1/EINVAL;
//   - FUTEX_WAKE_PRIVATE with nobody waiting -> 0;
//   - 5 waiters each do one FUTEX_WAIT_PRIVATE (word stays 0); main calls
//     FUTEX_WAKE_PRIVATE(INT_MAX) repeatedly until the returned counts add
//     up to exactly 5 (each result <= waiters not yet woken; 20 s bound);
//     every waiter's call returned 0; another wake then returns 0.  The
//     same with FUTEX_WAKE_PRIVATE(1): every result is 0 or 1, total 5;
//   - FUTEX_WAKE_PRIVATE(2) with 5 waiters: results 0..2 per call, total 5;
//   - bitsets: waiter A waits with FUTEX_WAIT_BITSET_PRIVATE bitset 0x1,
//     waiter B with 0x2; while both wait, FUTEX_WAKE_BITSET_PRIVATE with
//     0x4 (non-intersecting) returns 0 every time for 50 ms and neither
//     returns; then bitset 0x2 wakes exactly B (A still waiting), 0x1|0x8
//     wakes exactly A; a waiter with FUTEX_BITSET_MATCH_ANY is woken by
//     bitset 0x40; bitset 0 -> -1/EINVAL for wait and wake;
//   - FUTEX_WAIT_BITSET_PRIVATE | FUTEX_CLOCK_REALTIME with an absolute
//     CLOCK_REALTIME deadline 30 ms ahead -> -1/ETIMEDOUT, not before it;
//     without FUTEX_CLOCK_REALTIME the absolute deadline is CLOCK_MONOTONIC;
//     a deadline in the past -> -1/ETIMEDOUT at once.
// greenrun-test: env=GREENRUN_PROCS=1
// greenrun-test: env=GREENRUN_PROCS=2
// greenrun-test: timeout=90
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define TEST_NAME "sync_futex"
#include "sync_util.h"

static long futex(uint32_t *uaddr, int op, uint32_t val, const struct timespec *ts, uint32_t val3)
{
    return syscall(SYS_futex, uaddr, op, val, ts, NULL, val3);
}

/* expect -1 with errno e, or (e == 0) the value want */
#define EXPECT_FX(call, want, e) do {                                         \
        errno = 0;                                                            \
        long r_ = (call);                                                     \
        int er_ = errno;                                                      \
        if ((e) ? (r_ != -1 || er_ != (e)) : r_ != (want))                    \
            die("line %d: %s: expected %s, got %ld (errno %d: %s)", __LINE__, \
                #call, (e) ? "-1/" #e : #want, r_, er_, strerror(er_));       \
    } while (0)

/* ---------------- simple results ---------------- */
static void test_simple(void)
{
    uint32_t w = 7;
    EXPECT_FX(futex(&w, FUTEX_WAIT_PRIVATE, 8, NULL, 0), 0, EAGAIN);
    EXPECT_FX(futex(&w, FUTEX_WAIT_BITSET_PRIVATE, 8, NULL, FUTEX_BITSET_MATCH_ANY), 0, EAGAIN);
    EXPECT_FX(futex(&w, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, 0), 0, 0);
    EXPECT_FX(futex(&w, FUTEX_WAKE_BITSET_PRIVATE, INT_MAX, NULL, 0x5), 0, 0);

    struct timespec rel = { 0, 20 * 1000000L };
    struct timespec dl = ts_in(CLOCK_MONOTONIC, 20);
    EXPECT_FX(futex(&w, FUTEX_WAIT_PRIVATE, 7, &rel, 0), 0, ETIMEDOUT);
    check_not_early(CLOCK_MONOTONIC, &dl, "FUTEX_WAIT_PRIVATE with a 20 ms timeout");

    struct timespec badrel = { 0, 1000000000L };
    EXPECT_FX(futex(&w, FUTEX_WAIT_PRIVATE, 7, &badrel, 0), 0, EINVAL);

    dl = ts_in(CLOCK_REALTIME, 30);
    EXPECT_FX(futex(&w, FUTEX_WAIT_BITSET_PRIVATE | FUTEX_CLOCK_REALTIME, 7, &dl, FUTEX_BITSET_MATCH_ANY), 0,
              ETIMEDOUT);
    check_not_early(CLOCK_REALTIME, &dl, "FUTEX_WAIT_BITSET_PRIVATE|FUTEX_CLOCK_REALTIME (abs, 30 ms)");
    dl = ts_in(CLOCK_MONOTONIC, 30);
    EXPECT_FX(futex(&w, FUTEX_WAIT_BITSET_PRIVATE, 7, &dl, FUTEX_BITSET_MATCH_ANY), 0, ETIMEDOUT);
    check_not_early(CLOCK_MONOTONIC, &dl, "FUTEX_WAIT_BITSET_PRIVATE (abs CLOCK_MONOTONIC, 30 ms)");
    dl = ts_in(CLOCK_REALTIME, 0);
    dl.tv_sec -= 2;
    EXPECT_FX(futex(&w, FUTEX_WAIT_BITSET_PRIVATE | FUTEX_CLOCK_REALTIME, 7, &dl, FUTEX_BITSET_MATCH_ANY), 0,
              ETIMEDOUT);
    dl = ts_in(CLOCK_MONOTONIC, 0);
    dl.tv_sec -= 2;
    EXPECT_FX(futex(&w, FUTEX_WAIT_BITSET_PRIVATE, 7, &dl, FUTEX_BITSET_MATCH_ANY), 0, ETIMEDOUT);

    EXPECT_FX(futex(&w, FUTEX_WAIT_BITSET_PRIVATE, 7, NULL, 0), 0, EINVAL);
    EXPECT_FX(futex(&w, FUTEX_WAKE_BITSET_PRIVATE, 1, NULL, 0), 0, EINVAL);
}

/* ---------------- wake counts ---------------- */
#define NWAIT 5
static uint32_t word;
static atomic_int started, returned, bad_rc;

struct waiter_arg { uint32_t bits; atomic_int done; long rc; int err; };

static void *waiter(void *arg)
{
    (void)arg;
    atomic_fetch_add(&started, 1);
    errno = 0;
    long r = futex(&word, FUTEX_WAIT_PRIVATE, 0, NULL, 0);
    if (r != 0) {
        fprintf(stderr, "sync_futex: waiter: FUTEX_WAIT_PRIVATE returned %ld errno %d (%s)\n", r, errno,
                strerror(errno));
        atomic_fetch_add(&bad_rc, 1);
    }
    atomic_fetch_add(&returned, 1);
    return NULL;
}

static void wake_round(int nr, const char *what)
{
    atomic_store(&started, 0);
    atomic_store(&returned, 0);
    pthread_t t[NWAIT];
    for (int i = 0; i < NWAIT; i++)
        if (pthread_create(&t[i], NULL, waiter, NULL))
            die("pthread_create failed");
    long total = 0;
    double deadline = now_s() + 20;
    while (total < NWAIT) {
        long r = futex(&word, FUTEX_WAKE_PRIVATE, nr, NULL, 0);
        if (r < 0 || r > nr || r > NWAIT - total)
            die("%s: FUTEX_WAKE_PRIVATE(%d) returned %ld with %ld of %d waiters left (errno %s)", what, nr,
                r, NWAIT - total, NWAIT, r < 0 ? strerror(errno) : "-");
        total += r;
        if (total >= NWAIT)
            break;
        if (now_s() > deadline)
            die("%s: wakes added up to only %ld of %d in 20 s (%d waiters started, %d returned)", what,
                total, NWAIT, atomic_load(&started), atomic_load(&returned));
        if (r == 0)
            ms_sleep(1);
    }
    for (int i = 0; i < NWAIT; i++)
        if (pthread_join(t[i], NULL))
            die("pthread_join failed");
    if (atomic_load(&bad_rc))
        die("%s: %d waiters' FUTEX_WAIT_PRIVATE did not return 0", what, atomic_load(&bad_rc));
    long r = futex(&word, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, 0);
    if (r != 0)
        die("%s: FUTEX_WAKE_PRIVATE after all waiters left returned %ld, expected 0", what, r);
}

/* ---------------- bitsets ---------------- */
static uint32_t bword;

static void *bit_waiter(void *arg)
{
    struct waiter_arg *a = arg;
    errno = 0;
    a->rc = futex(&bword, FUTEX_WAIT_BITSET_PRIVATE, 0, NULL, a->bits);
    a->err = errno;
    atomic_store(&a->done, 1);
    return NULL;
}

/* wake with bits until exactly one waiter (want) has been woken */
static void wake_bits_until(uint32_t bits, struct waiter_arg *want, struct waiter_arg *other, const char *what)
{
    double deadline = now_s() + 20;
    for (;;) {
        long r = futex(&bword, FUTEX_WAKE_BITSET_PRIVATE, INT_MAX, NULL, bits);
        if (r == 1)
            break;
        if (r != 0)
            die("%s: FUTEX_WAKE_BITSET_PRIVATE(0x%x) returned %ld (errno %s), expected 0 or 1", what, bits, r,
                r < 0 ? strerror(errno) : "-");
        if (now_s() > deadline)
            die("%s: bitset 0x%x woke nobody in 20 s", what, bits);
        ms_sleep(1);
    }
    double d2 = now_s() + 20;
    while (!atomic_load(&want->done)) {
        if (now_s() > d2)
            die("%s: the woken waiter did not return in 20 s", what);
        ms_sleep(1);
    }
    if (want->rc != 0)
        die("%s: woken waiter's FUTEX_WAIT_BITSET returned %ld errno %d", what, want->rc, want->err);
    if (other && atomic_load(&other->done))
        die("%s: the waiter with a non-matching bitset returned too (rc %ld)", what, other->rc);
}

static void test_bitset(void)
{
    struct waiter_arg a = { .bits = 0x1 }, b = { .bits = 0x2 }, any = { .bits = FUTEX_BITSET_MATCH_ANY };
    pthread_t ta, tb, tany;
    if (pthread_create(&ta, NULL, bit_waiter, &a) || pthread_create(&tb, NULL, bit_waiter, &b))
        die("pthread_create failed");
    /* For 50 ms (both waiters very likely blocked for most of it), a
     * non-intersecting bitset must wake nobody. */
    double until = now_s() + 0.05;
    while (now_s() < until) {
        long r = futex(&bword, FUTEX_WAKE_BITSET_PRIVATE, INT_MAX, NULL, 0x4);
        if (r != 0)
            die("FUTEX_WAKE_BITSET_PRIVATE(0x4) with waiters on 0x1 and 0x2: returned %ld, expected 0", r);
        if (atomic_load(&a.done) || atomic_load(&b.done))
            die("a waiter returned after a non-matching wake (a: %d rc %ld, b: %d rc %ld)",
                atomic_load(&a.done), a.rc, atomic_load(&b.done), b.rc);
        ms_sleep(1);
    }
    wake_bits_until(0x2, &b, &a, "bitset 0x2");
    wake_bits_until(0x1 | 0x8, &a, NULL, "bitset 0x9");
    if (pthread_join(ta, NULL) || pthread_join(tb, NULL))
        die("pthread_join failed");

    if (pthread_create(&tany, NULL, bit_waiter, &any))
        die("pthread_create failed");
    wake_bits_until(0x40, &any, NULL, "MATCH_ANY waiter woken by bitset 0x40");
    if (pthread_join(tany, NULL))
        die("pthread_join failed");
}

int main(void)
{
    test_simple();
    wake_round(INT_MAX, "wake all");
    wake_round(1, "wake one");
    wake_round(2, "wake two");
    test_bitset();
    printf("sync_futex: OK\n");
    return 0;
}
