// sync_cond: condition variables (shim/cond.c) - wake-ups, timeouts, errors.
//
// Why: greenrun's condvars park the green thread on a sequence word
// instead of glibc's futex groups.  A lost or misdirected wake-up shows up
// as a hang or a wrong count here; timeouts must not fire early and must
// honour the clock the program chose; error codes must stay glibc's.
//
// Checks:
//   - ping-pong: 2 threads, one mutex, one condvar, a turn variable;
//     100,000 round trips, each side counts its turns and checks the shared
//     step number it sees (exact: 100,000 each, step 200,000 at the end);
//   - pthread_cond_timedwait with nobody signalling -> ETIMEDOUT, and the
//     clock it measures (CLOCK_REALTIME by default, CLOCK_MONOTONIC for a
//     condvar made with condattr_setclock) is past the deadline; the mutex
//     is held again on return (errorcheck mutex: unlock -> 0);
//     pthread_cond_clockwait with CLOCK_MONOTONIC and CLOCK_REALTIME
//     likewise; a deadline in the past -> ETIMEDOUT at once;
//   - tv_nsec = 1e9 or -1 -> EINVAL (timedwait and clockwait); clockwait
//     with CLOCK_PROCESS_CPUTIME_ID -> EINVAL; condattr_setclock with a bad
//     clock -> EINVAL, getclock round-trips;
//   - broadcast: 50 waiters all inside pthread_cond_wait (each counted
//     under the mutex before it waits), one broadcast -> all 50 return
//     (they wait with a 20 s timedwait so a missed wake-up is counted, not
//     a hang): exactly 50 woken, 0 timed out;
//   - signal: 20 waiters inside the wait, one token and one signal -> the
//     token is taken within 20 s (at least one waiter woke), exactly one
//     taker; then a broadcast releases the rest;
//   - pthread_cond_wait with an errorcheck mutex the caller does not hold
//     (unlocked, or held by another thread) -> EPERM;
//   - a static PTHREAD_COND_INITIALIZER condvar and static mutex, never
//     init'ed, used by 100 threads that pass a baton in index order (thread
//     i waits until turn == i): the final turn is exactly 100 and the
//     recorded order is 0..99.
// greenrun-test: env=GREENRUN_PROCS=1
// greenrun-test: env=GREENRUN_PROCS=2
// greenrun-test: timeout=120
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TEST_NAME "sync_cond"
#include "sync_util.h"

/* Lock m and poll (under m) until *v >= want; 30 s bound. Returns locked. */
static void lock_wait_count(pthread_mutex_t *m, int *v, int want, const char *what)
{
    double deadline = now_s() + 30;
    for (;;) {
        EXPECT_RC(pthread_mutex_lock(m), 0);
        if (*v >= want)
            return;
        EXPECT_RC(pthread_mutex_unlock(m), 0);
        if (now_s() > deadline)
            die("timed out (30 s) waiting for %s: %d of %d", what, *v, want);
        ms_sleep(1);
    }
}

/* ---------------- ping-pong ---------------- */
#define ROUNDS 100000
static pthread_mutex_t pp_m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pp_c;
static int pp_turn;          /* 0: A's turn, 1: B's turn */
static long pp_step;         /* incremented by each turn */
static long pp_count[2];

static void *pp_player(void *arg)
{
    int me = (int)(intptr_t)arg;
    for (int r = 0; r < ROUNDS; r++) {
        if (pthread_mutex_lock(&pp_m))
            die("ping-pong: lock failed");
        while (pp_turn != me) {
            int rc = pthread_cond_wait(&pp_c, &pp_m);
            if (rc)
                die("ping-pong: cond_wait returned %d", rc);
        }
        if (pp_step != 2L * r + me)
            die("ping-pong: player %d round %d saw step %ld, expected %ld", me, r, pp_step, 2L * r + me);
        pp_step++;
        pp_count[me]++;
        pp_turn = !me;
        pthread_cond_signal(&pp_c);
        pthread_mutex_unlock(&pp_m);
    }
    return NULL;
}

static void test_pingpong(void)
{
    EXPECT_RC(pthread_cond_init(&pp_c, NULL), 0);
    pthread_t a, b;
    EXPECT_RC(pthread_create(&a, NULL, pp_player, (void *)0), 0);
    EXPECT_RC(pthread_create(&b, NULL, pp_player, (void *)1), 0);
    EXPECT_RC(pthread_join(a, NULL), 0);
    EXPECT_RC(pthread_join(b, NULL), 0);
    if (pp_count[0] != ROUNDS || pp_count[1] != ROUNDS || pp_step != 2L * ROUNDS)
        die("ping-pong: counts %ld/%ld step %ld, expected %d/%d step %ld", pp_count[0], pp_count[1],
            pp_step, ROUNDS, ROUNDS, 2L * ROUNDS);
    EXPECT_RC(pthread_cond_destroy(&pp_c), 0);
}

/* ---------------- timeouts and EINVAL ---------------- */
static void test_timeouts(void)
{
    pthread_mutexattr_t ma;
    pthread_mutex_t m;
    EXPECT_RC(pthread_mutexattr_init(&ma), 0);
    EXPECT_RC(pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_ERRORCHECK), 0);
    EXPECT_RC(pthread_mutex_init(&m, &ma), 0);

    pthread_condattr_t ca;
    clockid_t clk;
    EXPECT_RC(pthread_condattr_init(&ca), 0);
    EXPECT_RC(pthread_condattr_getclock(&ca, &clk), 0);
    if (clk != CLOCK_REALTIME)
        die("condattr default clock: expected CLOCK_REALTIME, got %d", (int)clk);
    EXPECT_RC(pthread_condattr_setclock(&ca, CLOCK_PROCESS_CPUTIME_ID), EINVAL);
    EXPECT_RC(pthread_condattr_setclock(&ca, CLOCK_MONOTONIC), 0);
    EXPECT_RC(pthread_condattr_getclock(&ca, &clk), 0);
    if (clk != CLOCK_MONOTONIC)
        die("condattr clock round-trip: expected CLOCK_MONOTONIC, got %d", (int)clk);

    pthread_cond_t c_rt, c_mono;
    EXPECT_RC(pthread_cond_init(&c_rt, NULL), 0);
    EXPECT_RC(pthread_cond_init(&c_mono, &ca), 0);
    EXPECT_RC(pthread_condattr_destroy(&ca), 0);

    EXPECT_RC(pthread_mutex_lock(&m), 0);

    struct timespec dl = ts_in(CLOCK_REALTIME, 50);
    EXPECT_RC(pthread_cond_timedwait(&c_rt, &m, &dl), ETIMEDOUT);
    check_not_early(CLOCK_REALTIME, &dl, "pthread_cond_timedwait (default clock, 50 ms)");
    EXPECT_RC(pthread_mutex_lock(&m), EDEADLK);    /* we hold it again */

    dl = ts_in(CLOCK_MONOTONIC, 50);
    EXPECT_RC(pthread_cond_timedwait(&c_mono, &m, &dl), ETIMEDOUT);
    check_not_early(CLOCK_MONOTONIC, &dl, "pthread_cond_timedwait (CLOCK_MONOTONIC condvar, 50 ms)");

    dl = ts_in(CLOCK_MONOTONIC, 40);
    EXPECT_RC(pthread_cond_clockwait(&c_rt, &m, CLOCK_MONOTONIC, &dl), ETIMEDOUT);
    check_not_early(CLOCK_MONOTONIC, &dl, "pthread_cond_clockwait(CLOCK_MONOTONIC, 40 ms)");

    dl = ts_in(CLOCK_REALTIME, 40);
    EXPECT_RC(pthread_cond_clockwait(&c_mono, &m, CLOCK_REALTIME, &dl), ETIMEDOUT);
    check_not_early(CLOCK_REALTIME, &dl, "pthread_cond_clockwait(CLOCK_REALTIME, 40 ms)");

    dl = ts_in(CLOCK_REALTIME, 0);
    dl.tv_sec -= 5;
    EXPECT_RC(pthread_cond_timedwait(&c_rt, &m, &dl), ETIMEDOUT);
    dl = ts_in(CLOCK_MONOTONIC, 0);
    dl.tv_sec -= 5;
    EXPECT_RC(pthread_cond_clockwait(&c_rt, &m, CLOCK_MONOTONIC, &dl), ETIMEDOUT);

    struct timespec bad = ts_in(CLOCK_REALTIME, 1000);
    bad.tv_nsec = 1000000000L;
    EXPECT_RC(pthread_cond_timedwait(&c_rt, &m, &bad), EINVAL);
    EXPECT_RC(pthread_cond_clockwait(&c_rt, &m, CLOCK_MONOTONIC, &bad), EINVAL);
    bad.tv_nsec = -1;
    EXPECT_RC(pthread_cond_timedwait(&c_mono, &m, &bad), EINVAL);
    struct timespec ok = ts_in(CLOCK_REALTIME, 1000);
    EXPECT_RC(pthread_cond_clockwait(&c_rt, &m, CLOCK_PROCESS_CPUTIME_ID, &ok), EINVAL);

    EXPECT_RC(pthread_mutex_unlock(&m), 0);        /* still held after EINVAL */
    EXPECT_RC(pthread_mutex_unlock(&m), EPERM);

    /* cond_wait with an errorcheck mutex we do not hold: EPERM */
    EXPECT_RC(pthread_cond_wait(&c_rt, &m), EPERM);
    dl = ts_in(CLOCK_REALTIME, 1000);
    EXPECT_RC(pthread_cond_timedwait(&c_rt, &m, &dl), EPERM);

    EXPECT_RC(pthread_cond_destroy(&c_rt), 0);
    EXPECT_RC(pthread_cond_destroy(&c_mono), 0);
    EXPECT_RC(pthread_mutex_destroy(&m), 0);
    EXPECT_RC(pthread_mutexattr_destroy(&ma), 0);
}

/* cond_wait on an errorcheck mutex held by another thread: EPERM */
static pthread_mutex_t eperm_m;
static pthread_cond_t eperm_c = PTHREAD_COND_INITIALIZER;
static atomic_int eperm_locked, eperm_release;
static void *eperm_holder(void *arg)
{
    (void)arg;
    if (pthread_mutex_lock(&eperm_m))
        die("eperm holder: lock failed");
    atomic_store(&eperm_locked, 1);
    double deadline = now_s() + 30;
    while (!atomic_load(&eperm_release) && now_s() < deadline)
        ms_sleep(1);
    pthread_mutex_unlock(&eperm_m);
    return NULL;
}

static void test_eperm_other(void)
{
    pthread_mutexattr_t ma;
    EXPECT_RC(pthread_mutexattr_init(&ma), 0);
    EXPECT_RC(pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_ERRORCHECK), 0);
    EXPECT_RC(pthread_mutex_init(&eperm_m, &ma), 0);
    pthread_t t;
    EXPECT_RC(pthread_create(&t, NULL, eperm_holder, NULL), 0);
    double deadline = now_s() + 30;
    while (!atomic_load(&eperm_locked)) {
        if (now_s() > deadline)
            die("eperm holder never locked");
        ms_sleep(1);
    }
    EXPECT_RC(pthread_cond_wait(&eperm_c, &eperm_m), EPERM);
    atomic_store(&eperm_release, 1);
    EXPECT_RC(pthread_join(t, NULL), 0);
    EXPECT_RC(pthread_mutex_destroy(&eperm_m), 0);
}

/* ---------------- broadcast / signal ---------------- */
#define NB 50
#define NS 20
static pthread_mutex_t bw_m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t bw_c = PTHREAD_COND_INITIALIZER;
static int bw_waiting, bw_flag, bw_woken, bw_timedout;
static int sg_waiting, sg_tokens, sg_taken, sg_done, sg_timedout;

static void *bcast_waiter(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&bw_m);
    bw_waiting++;
    struct timespec dl = ts_in(CLOCK_REALTIME, 20000);
    int rc = 0;
    while (!bw_flag && rc != ETIMEDOUT) {
        rc = pthread_cond_timedwait(&bw_c, &bw_m, &dl);
        if (rc != 0 && rc != ETIMEDOUT)
            die("broadcast waiter: timedwait returned %d", rc);
    }
    if (bw_flag)
        bw_woken++;
    else
        bw_timedout++;
    pthread_mutex_unlock(&bw_m);
    return NULL;
}

static void *signal_waiter(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&bw_m);
    sg_waiting++;
    struct timespec dl = ts_in(CLOCK_REALTIME, 25000);
    int rc = 0;
    while (sg_tokens == 0 && !sg_done && rc != ETIMEDOUT) {
        rc = pthread_cond_timedwait(&bw_c, &bw_m, &dl);
        if (rc != 0 && rc != ETIMEDOUT)
            die("signal waiter: timedwait returned %d", rc);
    }
    if (sg_tokens > 0) {
        sg_tokens--;
        sg_taken++;
    } else if (!sg_done) {
        sg_timedout++;
    }
    pthread_mutex_unlock(&bw_m);
    return NULL;
}

static void test_broadcast_signal(void)
{
    pthread_t t[NB];
    for (int i = 0; i < NB; i++)
        EXPECT_RC(pthread_create(&t[i], NULL, bcast_waiter, NULL), 0);
    /* bw_waiting counts threads that are in (or about to enter, with the
     * mutex held) pthread_cond_timedwait: once all NB are counted and we
     * hold the mutex, every one of them is waiting. */
    lock_wait_count(&bw_m, &bw_waiting, NB, "broadcast waiters to wait");
    bw_flag = 1;
    EXPECT_RC(pthread_cond_broadcast(&bw_c), 0);
    EXPECT_RC(pthread_mutex_unlock(&bw_m), 0);
    for (int i = 0; i < NB; i++)
        EXPECT_RC(pthread_join(t[i], NULL), 0);
    if (bw_woken != NB || bw_timedout != 0)
        die("broadcast: expected %d woken and 0 timed out, got %d woken, %d timed out (20 s)", NB,
            bw_woken, bw_timedout);

    pthread_t s[NS];
    for (int i = 0; i < NS; i++)
        EXPECT_RC(pthread_create(&s[i], NULL, signal_waiter, NULL), 0);
    lock_wait_count(&bw_m, &sg_waiting, NS, "signal waiters to wait");
    sg_tokens = 1;
    EXPECT_RC(pthread_cond_signal(&bw_c), 0);
    EXPECT_RC(pthread_mutex_unlock(&bw_m), 0);
    /* One signal must wake at least one waiter, which takes the token. */
    double deadline = now_s() + 20;
    for (;;) {
        pthread_mutex_lock(&bw_m);
        int taken = sg_taken;
        pthread_mutex_unlock(&bw_m);
        if (taken)
            break;
        if (now_s() > deadline)
            die("signal: no waiter took the token within 20 s of pthread_cond_signal (%d waiting)", NS);
        ms_sleep(1);
    }
    pthread_mutex_lock(&bw_m);
    sg_done = 1;
    EXPECT_RC(pthread_cond_broadcast(&bw_c), 0);
    pthread_mutex_unlock(&bw_m);
    for (int i = 0; i < NS; i++)
        EXPECT_RC(pthread_join(s[i], NULL), 0);
    if (sg_taken != 1 || sg_tokens != 0 || sg_timedout != 0)
        die("signal: expected 1 taker, 0 tokens left, 0 timed out; got %d, %d, %d", sg_taken, sg_tokens,
            sg_timedout);
}

/* ---------------- static initialiser, baton in order ---------------- */
#define NBATON 100
static pthread_mutex_t st_m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t st_c = PTHREAD_COND_INITIALIZER;
static int st_turn;
static int st_order[NBATON];

static void *baton(void *arg)
{
    int me = (int)(intptr_t)arg;
    pthread_mutex_lock(&st_m);
    struct timespec dl = ts_in(CLOCK_REALTIME, 30000);
    while (st_turn != me) {
        int rc = pthread_cond_timedwait(&st_c, &st_m, &dl);
        if (rc == ETIMEDOUT && st_turn != me)
            die("baton: thread %d still waiting after 30 s, turn is %d", me, st_turn);
        if (rc != 0 && rc != ETIMEDOUT)
            die("baton: timedwait returned %d", rc);
    }
    st_order[st_turn] = me;
    st_turn++;
    pthread_cond_broadcast(&st_c);
    pthread_mutex_unlock(&st_m);
    return NULL;
}

static void test_static(void)
{
    static pthread_t t[NBATON];
    /* created in reverse order so that most must wait */
    for (int i = NBATON - 1; i >= 0; i--)
        EXPECT_RC(pthread_create(&t[i], NULL, baton, (void *)(intptr_t)i), 0);
    for (int i = 0; i < NBATON; i++)
        EXPECT_RC(pthread_join(t[i], NULL), 0);
    if (st_turn != NBATON)
        die("static condvar baton: final turn expected %d, got %d", NBATON, st_turn);
    for (int i = 0; i < NBATON; i++)
        if (st_order[i] != i)
            die("static condvar baton: position %d taken by thread %d", i, st_order[i]);
}

int main(void)
{
    test_pingpong();
    test_timeouts();
    test_eperm_other();
    test_broadcast_signal();
    test_static();
    printf("sync_cond: OK\n");
    return 0;
}
