// sync_mutex: every pthread mutex type and its error cases.
//
// Why: greenrun replaces glibc's mutexes with ones whose waiters park the
// green thread (shim/mutex.c).  Programs depend on glibc's exact return
// codes, on the static initialisers working with no init call, and on
// robust-mutex recovery; all of it must survive the replacement.
//
// Checks (each with its exact expected value):
//   - normal: lock/unlock by 2 threads x 50,000 -> counter exactly 100,000;
//     trylock on a held mutex -> EBUSY (from another thread);
//   - recursive: lock 3 times, trylock a 4th (0), unlock 4 times -> 0, a
//     5th unlock -> EPERM; unlock by a non-owner -> EPERM;
//   - errorcheck: relock by the owner -> EDEADLK (trylock too when robust
//     or priority-inheritance), trylock by the owner ->
//     EBUSY, unlock by a non-owner -> EPERM, unlock when unlocked -> EPERM;
//   - timedlock on a mutex held by another thread -> ETIMEDOUT, not before
//     the CLOCK_REALTIME deadline; clocklock(CLOCK_MONOTONIC) likewise;
//     clocklock with a bad clock -> EINVAL (even uncontended, as glibc);
//     tv_nsec = 1e9 or -1: 0 when the mutex is free (glibc only looks at
//     the timespec when it must block), EINVAL when it is held;
//   - destroy of a locked (normal) mutex -> EBUSY, of an unlocked one -> 0;
//   - PTHREAD_MUTEX_INITIALIZER, PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP and
//     PTHREAD_ERRORCHECK_MUTEX_INITIALIZER_NP mutexes, never init'ed, are
//     first used by 100 threads released at once; each thread does 1,000
//     increments under each (twice nested for the recursive one) -> each
//     counter exactly 100,000;
//   - mutexattr: settype/gettype, setpshared/getpshared, setrobust/
//     getrobust, setprotocol/getprotocol, setprioceiling/getprioceiling
//     round-trip; invalid values -> EINVAL;
//   - robust: a thread exits holding the mutex while another is blocked in
//     pthread_mutex_lock on it -> that locker gets EOWNERDEAD (and owns
//     it); pthread_mutex_consistent -> 0; unlock; normal lock/unlock
//     afterwards -> 0; a robust errorcheck relock -> EDEADLK;
//   - robust, not recovered: owner exits, next locker gets EOWNERDEAD and
//     unlocks without consistent -> the next lock (from this and another
//     thread) and trylock return ENOTRECOVERABLE.
// Waits are bounded: helper-thread handshakes poll with a 30 s deadline.
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

#define TEST_NAME "sync_mutex"
#include "sync_util.h"

/* ---- a helper thread that holds a mutex until told to release it ---- */
struct holder {
    pthread_mutex_t *m;
    atomic_int locked, release, done;
    int lock_rc, unlock_rc;
};

static void *holder_main(void *arg)
{
    struct holder *h = arg;
    h->lock_rc = pthread_mutex_lock(h->m);
    atomic_store(&h->locked, 1);
    double deadline = now_s() + 60;
    while (!atomic_load(&h->release) && now_s() < deadline)
        ms_sleep(1);
    h->unlock_rc = pthread_mutex_unlock(h->m);
    atomic_store(&h->done, 1);
    return NULL;
}

static void hold_start(struct holder *h, pthread_t *t, pthread_mutex_t *m)
{
    memset(h, 0, sizeof *h);
    h->m = m;
    EXPECT_RC(pthread_create(t, NULL, holder_main, h), 0);
    wait_flag(&h->locked, 1, "holder thread to lock");
    if (h->lock_rc != 0)
        die("holder thread: pthread_mutex_lock: expected 0, got %d", h->lock_rc);
}

static void hold_end(struct holder *h, pthread_t t)
{
    atomic_store(&h->release, 1);
    EXPECT_RC(pthread_join(t, NULL), 0);
    if (h->unlock_rc != 0)
        die("holder thread: pthread_mutex_unlock: expected 0, got %d", h->unlock_rc);
}

/* Run fn(arg) on another thread and return its int result. */
struct call { int (*fn)(pthread_mutex_t *); pthread_mutex_t *m; int rc; };
static void *call_main(void *arg)
{
    struct call *c = arg;
    c->rc = c->fn(c->m);
    return NULL;
}
static int on_other_thread(int (*fn)(pthread_mutex_t *), pthread_mutex_t *m)
{
    struct call c = { fn, m, -1 };
    pthread_t t;
    EXPECT_RC(pthread_create(&t, NULL, call_main, &c), 0);
    EXPECT_RC(pthread_join(t, NULL), 0);
    return c.rc;
}

static void init_type(pthread_mutex_t *m, int type)
{
    pthread_mutexattr_t a;
    EXPECT_RC(pthread_mutexattr_init(&a), 0);
    EXPECT_RC(pthread_mutexattr_settype(&a, type), 0);
    EXPECT_RC(pthread_mutex_init(m, &a), 0);
    EXPECT_RC(pthread_mutexattr_destroy(&a), 0);
}

/* ---------------- normal ---------------- */
static pthread_mutex_t n_mtx;
static long n_counter;

static void *n_worker(void *arg)
{
    (void)arg;
    for (int i = 0; i < 50000; i++) {
        int rc = pthread_mutex_lock(&n_mtx);
        if (rc)
            die("normal: lock returned %d", rc);
        n_counter++;
        if ((i & 1023) == 0)
            sched_yield();          /* yield while holding: others must wait */
        rc = pthread_mutex_unlock(&n_mtx);
        if (rc)
            die("normal: unlock returned %d", rc);
    }
    return NULL;
}

static void test_normal(void)
{
    init_type(&n_mtx, PTHREAD_MUTEX_NORMAL);
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        EXPECT_RC(pthread_create(&t[i], NULL, n_worker, NULL), 0);
    for (int i = 0; i < 2; i++)
        EXPECT_RC(pthread_join(t[i], NULL), 0);
    if (n_counter != 100000)
        die("normal mutex: counter expected 100000, got %ld", n_counter);

    EXPECT_RC(pthread_mutex_lock(&n_mtx), 0);
    EXPECT_RC(on_other_thread(pthread_mutex_trylock, &n_mtx), EBUSY);
    EXPECT_RC(pthread_mutex_destroy(&n_mtx), EBUSY);
    EXPECT_RC(pthread_mutex_unlock(&n_mtx), 0);
    EXPECT_RC(pthread_mutex_trylock(&n_mtx), 0);
    EXPECT_RC(pthread_mutex_unlock(&n_mtx), 0);
    EXPECT_RC(pthread_mutex_destroy(&n_mtx), 0);

    /* default attributes (NULL attr) behave the same */
    pthread_mutex_t d;
    EXPECT_RC(pthread_mutex_init(&d, NULL), 0);
    EXPECT_RC(pthread_mutex_lock(&d), 0);
    EXPECT_RC(pthread_mutex_trylock(&d), EBUSY);
    EXPECT_RC(pthread_mutex_unlock(&d), 0);
    EXPECT_RC(pthread_mutex_destroy(&d), 0);
}

/* ---------------- recursive ---------------- */
static void test_recursive(void)
{
    pthread_mutex_t m;
    init_type(&m, PTHREAD_MUTEX_RECURSIVE);
    EXPECT_RC(pthread_mutex_lock(&m), 0);
    EXPECT_RC(pthread_mutex_lock(&m), 0);
    EXPECT_RC(pthread_mutex_lock(&m), 0);
    EXPECT_RC(pthread_mutex_trylock(&m), 0);
    /* another thread: held -> EBUSY; not the owner -> unlock EPERM */
    EXPECT_RC(on_other_thread(pthread_mutex_trylock, &m), EBUSY);
    EXPECT_RC(on_other_thread(pthread_mutex_unlock, &m), EPERM);
    EXPECT_RC(pthread_mutex_unlock(&m), 0);
    EXPECT_RC(pthread_mutex_unlock(&m), 0);
    EXPECT_RC(pthread_mutex_unlock(&m), 0);
    /* still held once: others cannot take it */
    EXPECT_RC(on_other_thread(pthread_mutex_trylock, &m), EBUSY);
    EXPECT_RC(pthread_mutex_unlock(&m), 0);
    EXPECT_RC(pthread_mutex_unlock(&m), EPERM);
    /* free now: another thread takes and releases it */
    struct holder h;
    pthread_t t;
    hold_start(&h, &t, &m);
    hold_end(&h, t);
    EXPECT_RC(pthread_mutex_destroy(&m), 0);
}

/* ---------------- errorcheck ---------------- */
static void test_errorcheck(void)
{
    pthread_mutex_t m;
    init_type(&m, PTHREAD_MUTEX_ERRORCHECK);
    EXPECT_RC(pthread_mutex_unlock(&m), EPERM);        /* unlocked */
    EXPECT_RC(pthread_mutex_lock(&m), 0);
    EXPECT_RC(pthread_mutex_lock(&m), EDEADLK);
    EXPECT_RC(pthread_mutex_trylock(&m), EBUSY);
    EXPECT_RC(on_other_thread(pthread_mutex_unlock, &m), EPERM);
    EXPECT_RC(on_other_thread(pthread_mutex_trylock, &m), EBUSY);
    EXPECT_RC(pthread_mutex_unlock(&m), 0);
    EXPECT_RC(pthread_mutex_unlock(&m), EPERM);        /* unlocked again */
    /* held by another thread: our unlock -> EPERM */
    struct holder h;
    pthread_t t;
    hold_start(&h, &t, &m);
    EXPECT_RC(pthread_mutex_unlock(&m), EPERM);
    EXPECT_RC(pthread_mutex_trylock(&m), EBUSY);
    hold_end(&h, t);
    EXPECT_RC(pthread_mutex_destroy(&m), 0);

    /* priority-inheritance errorcheck: trylock by the owner -> EDEADLK
     * (glibc's PI path), where the plain one says EBUSY */
    pthread_mutexattr_t pa;
    pthread_mutexattr_init(&pa);
    pthread_mutexattr_settype(&pa, PTHREAD_MUTEX_ERRORCHECK);
    pthread_mutexattr_setprotocol(&pa, PTHREAD_PRIO_INHERIT);
    EXPECT_RC(pthread_mutex_init(&m, &pa), 0);
    EXPECT_RC(pthread_mutex_lock(&m), 0);
    EXPECT_RC(pthread_mutex_trylock(&m), EDEADLK);
    EXPECT_RC(pthread_mutex_unlock(&m), 0);
    EXPECT_RC(pthread_mutex_destroy(&m), 0);
    /* glibc has no robust priority-protection mutex */
    pthread_mutexattr_setprotocol(&pa, PTHREAD_PRIO_PROTECT);
    pthread_mutexattr_setrobust(&pa, PTHREAD_MUTEX_ROBUST);
    EXPECT_RC(pthread_mutex_init(&m, &pa), ENOTSUP);
}

/* ---------------- timed / clock ---------------- */
static void test_timed(void)
{
    pthread_mutex_t m;
    init_type(&m, PTHREAD_MUTEX_NORMAL);
    struct timespec bad1 = ts_in(CLOCK_REALTIME, 0), bad2 = bad1;
    bad1.tv_nsec = 1000000000L;
    bad2.tv_nsec = -1;

    /* free mutex: the timespec is not looked at */
    EXPECT_RC(pthread_mutex_timedlock(&m, &bad1), 0);
    EXPECT_RC(pthread_mutex_unlock(&m), 0);
    EXPECT_RC(pthread_mutex_clocklock(&m, CLOCK_MONOTONIC, &bad2), 0);
    EXPECT_RC(pthread_mutex_unlock(&m), 0);
    /* bad clock: EINVAL up front */
    struct timespec okts = ts_in(CLOCK_MONOTONIC, 1000);
    EXPECT_RC(pthread_mutex_clocklock(&m, CLOCK_PROCESS_CPUTIME_ID, &okts), EINVAL);
    EXPECT_RC(pthread_mutex_clocklock(&m, (clockid_t)12345, &okts), EINVAL);
    EXPECT_RC(pthread_mutex_trylock(&m), 0);        /* still free */
    EXPECT_RC(pthread_mutex_unlock(&m), 0);

    struct holder h;
    pthread_t t;
    hold_start(&h, &t, &m);
    /* held: bad timespec -> EINVAL */
    EXPECT_RC(pthread_mutex_timedlock(&m, &bad1), EINVAL);
    EXPECT_RC(pthread_mutex_timedlock(&m, &bad2), EINVAL);
    EXPECT_RC(pthread_mutex_clocklock(&m, CLOCK_MONOTONIC, &bad1), EINVAL);

    struct timespec dl = ts_in(CLOCK_REALTIME, 50);
    EXPECT_RC(pthread_mutex_timedlock(&m, &dl), ETIMEDOUT);
    check_not_early(CLOCK_REALTIME, &dl, "pthread_mutex_timedlock (50 ms)");
    dl = ts_in(CLOCK_MONOTONIC, 50);
    EXPECT_RC(pthread_mutex_clocklock(&m, CLOCK_MONOTONIC, &dl), ETIMEDOUT);
    check_not_early(CLOCK_MONOTONIC, &dl, "pthread_mutex_clocklock(CLOCK_MONOTONIC, 50 ms)");
    dl = ts_in(CLOCK_REALTIME, 30);
    EXPECT_RC(pthread_mutex_clocklock(&m, CLOCK_REALTIME, &dl), ETIMEDOUT);
    check_not_early(CLOCK_REALTIME, &dl, "pthread_mutex_clocklock(CLOCK_REALTIME, 30 ms)");
    /* a deadline in the past: ETIMEDOUT at once */
    dl = ts_in(CLOCK_MONOTONIC, 0);
    dl.tv_sec -= 1;
    EXPECT_RC(pthread_mutex_clocklock(&m, CLOCK_MONOTONIC, &dl), ETIMEDOUT);

    /* a timed lock that succeeds when the holder releases in time */
    dl = ts_in(CLOCK_MONOTONIC, 20000);
    atomic_store(&h.release, 1);
    EXPECT_RC(pthread_mutex_clocklock(&m, CLOCK_MONOTONIC, &dl), 0);
    EXPECT_RC(pthread_mutex_unlock(&m), 0);
    EXPECT_RC(pthread_join(t, NULL), 0);
    if (h.unlock_rc)
        die("holder unlock returned %d", h.unlock_rc);
    EXPECT_RC(pthread_mutex_destroy(&m), 0);
}

/* ---------------- static initialisers ---------------- */
static pthread_mutex_t s_plain = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t s_rec = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
static pthread_mutex_t s_err = PTHREAD_ERRORCHECK_MUTEX_INITIALIZER_NP;
static long c_plain, c_rec, c_err;
static atomic_int s_arrived, s_go, s_bad;

#define NSTATIC 100
#define ITERS 1000

static void *static_worker(void *arg)
{
    (void)arg;
    atomic_fetch_add(&s_arrived, 1);
    double deadline = now_s() + 30;
    while (!atomic_load(&s_go)) {
        if (now_s() > deadline)
            die("static worker: start flag never came");
        sched_yield();
    }
    for (int i = 0; i < ITERS; i++) {
        if (pthread_mutex_lock(&s_plain))
            atomic_fetch_add(&s_bad, 1);
        c_plain++;
        if (pthread_mutex_unlock(&s_plain))
            atomic_fetch_add(&s_bad, 1);

        if (pthread_mutex_lock(&s_rec) || pthread_mutex_lock(&s_rec))
            atomic_fetch_add(&s_bad, 1);
        c_rec++;
        if (pthread_mutex_unlock(&s_rec) || pthread_mutex_unlock(&s_rec))
            atomic_fetch_add(&s_bad, 1);

        if (pthread_mutex_lock(&s_err))
            atomic_fetch_add(&s_bad, 1);
        if (pthread_mutex_lock(&s_err) != EDEADLK)   /* it is errorcheck */
            atomic_fetch_add(&s_bad, 1);
        c_err++;
        if (pthread_mutex_unlock(&s_err))
            atomic_fetch_add(&s_bad, 1);
        if ((i & 127) == 0)
            sched_yield();
    }
    return NULL;
}

static void test_static(void)
{
    static pthread_t t[NSTATIC];
    for (int i = 0; i < NSTATIC; i++)
        EXPECT_RC(pthread_create(&t[i], NULL, static_worker, NULL), 0);
    wait_flag(&s_arrived, NSTATIC, "static-initialiser workers to start");
    atomic_store(&s_go, 1);
    for (int i = 0; i < NSTATIC; i++)
        EXPECT_RC(pthread_join(t[i], NULL), 0);
    if (atomic_load(&s_bad))
        die("static initialisers: %d unexpected return codes", atomic_load(&s_bad));
    if (c_plain != NSTATIC * ITERS)
        die("PTHREAD_MUTEX_INITIALIZER: counter expected %d, got %ld", NSTATIC * ITERS, c_plain);
    if (c_rec != NSTATIC * ITERS)
        die("PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP: counter expected %d, got %ld", NSTATIC * ITERS, c_rec);
    if (c_err != NSTATIC * ITERS)
        die("PTHREAD_ERRORCHECK_MUTEX_INITIALIZER_NP: counter expected %d, got %ld", NSTATIC * ITERS, c_err);
    /* the recursive one is recursive, the errorcheck one checks */
    EXPECT_RC(pthread_mutex_unlock(&s_rec), EPERM);
    EXPECT_RC(pthread_mutex_unlock(&s_err), EPERM);
}

/* ---------------- mutexattr ---------------- */
static void test_attr(void)
{
    pthread_mutexattr_t a;
    int v;
    EXPECT_RC(pthread_mutexattr_init(&a), 0);
    EXPECT_RC(pthread_mutexattr_gettype(&a, &v), 0);
    if (v != PTHREAD_MUTEX_DEFAULT)
        die("mutexattr default type: expected %d, got %d", PTHREAD_MUTEX_DEFAULT, v);
    int types[] = { PTHREAD_MUTEX_NORMAL, PTHREAD_MUTEX_RECURSIVE, PTHREAD_MUTEX_ERRORCHECK,
                    PTHREAD_MUTEX_DEFAULT, PTHREAD_MUTEX_ADAPTIVE_NP };
    for (unsigned i = 0; i < sizeof types / sizeof types[0]; i++) {
        EXPECT_RC(pthread_mutexattr_settype(&a, types[i]), 0);
        EXPECT_RC(pthread_mutexattr_gettype(&a, &v), 0);
        if (v != types[i])
            die("mutexattr type round-trip: set %d, got %d", types[i], v);
    }
    EXPECT_RC(pthread_mutexattr_settype(&a, 99), EINVAL);
    EXPECT_RC(pthread_mutexattr_settype(&a, -1), EINVAL);

    EXPECT_RC(pthread_mutexattr_getpshared(&a, &v), 0);
    if (v != PTHREAD_PROCESS_PRIVATE)
        die("mutexattr default pshared: expected PRIVATE, got %d", v);
    EXPECT_RC(pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED), 0);
    EXPECT_RC(pthread_mutexattr_getpshared(&a, &v), 0);
    if (v != PTHREAD_PROCESS_SHARED)
        die("mutexattr pshared round-trip: expected SHARED, got %d", v);
    EXPECT_RC(pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_PRIVATE), 0);
    EXPECT_RC(pthread_mutexattr_getpshared(&a, &v), 0);
    if (v != PTHREAD_PROCESS_PRIVATE)
        die("mutexattr pshared round-trip: expected PRIVATE, got %d", v);
    EXPECT_RC(pthread_mutexattr_setpshared(&a, 42), EINVAL);

    EXPECT_RC(pthread_mutexattr_getrobust(&a, &v), 0);
    if (v != PTHREAD_MUTEX_STALLED)
        die("mutexattr default robust: expected STALLED, got %d", v);
    EXPECT_RC(pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST), 0);
    EXPECT_RC(pthread_mutexattr_getrobust(&a, &v), 0);
    if (v != PTHREAD_MUTEX_ROBUST)
        die("mutexattr robust round-trip: expected ROBUST, got %d", v);
    EXPECT_RC(pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_STALLED), 0);
    EXPECT_RC(pthread_mutexattr_getrobust(&a, &v), 0);
    if (v != PTHREAD_MUTEX_STALLED)
        die("mutexattr robust round-trip: expected STALLED, got %d", v);
    EXPECT_RC(pthread_mutexattr_setrobust(&a, 7), EINVAL);

    EXPECT_RC(pthread_mutexattr_getprotocol(&a, &v), 0);
    if (v != PTHREAD_PRIO_NONE)
        die("mutexattr default protocol: expected PRIO_NONE, got %d", v);
    int protos[] = { PTHREAD_PRIO_INHERIT, PTHREAD_PRIO_PROTECT, PTHREAD_PRIO_NONE };
    for (unsigned i = 0; i < 3; i++) {
        EXPECT_RC(pthread_mutexattr_setprotocol(&a, protos[i]), 0);
        EXPECT_RC(pthread_mutexattr_getprotocol(&a, &v), 0);
        if (v != protos[i])
            die("mutexattr protocol round-trip: set %d, got %d", protos[i], v);
    }
    EXPECT_RC(pthread_mutexattr_setprotocol(&a, 9), EINVAL);

    int lo = sched_get_priority_min(SCHED_FIFO), hi = sched_get_priority_max(SCHED_FIFO);
    EXPECT_RC(pthread_mutexattr_setprioceiling(&a, hi), 0);
    EXPECT_RC(pthread_mutexattr_getprioceiling(&a, &v), 0);
    if (v != hi)
        die("mutexattr prioceiling round-trip: set %d, got %d", hi, v);
    EXPECT_RC(pthread_mutexattr_setprioceiling(&a, lo), 0);
    EXPECT_RC(pthread_mutexattr_getprioceiling(&a, &v), 0);
    if (v != lo)
        die("mutexattr prioceiling round-trip: set %d, got %d", lo, v);
    EXPECT_RC(pthread_mutexattr_setprioceiling(&a, hi + 1), EINVAL);
    EXPECT_RC(pthread_mutexattr_setprioceiling(&a, lo - 1), EINVAL);

    /* The type survives into a mutex made with the attribute. */
    EXPECT_RC(pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK), 0);
    pthread_mutex_t m;
    EXPECT_RC(pthread_mutex_init(&m, &a), 0);
    EXPECT_RC(pthread_mutexattr_destroy(&a), 0);   /* the mutex does not need it */
    EXPECT_RC(pthread_mutex_lock(&m), 0);
    EXPECT_RC(pthread_mutex_lock(&m), EDEADLK);
    EXPECT_RC(pthread_mutex_unlock(&m), 0);
    EXPECT_RC(pthread_mutex_destroy(&m), 0);
}

/* ---------------- robust ---------------- */
static pthread_mutex_t r_mtx;
static atomic_int r_held, r_exit;

static void *r_owner(void *arg)
{
    pthread_mutex_t *m = arg;
    int rc = pthread_mutex_lock(m);
    if (rc)
        die("robust owner: lock returned %d", rc);
    atomic_store(&r_held, 1);
    double deadline = now_s() + 30;
    while (!atomic_load(&r_exit) && now_s() < deadline)
        ms_sleep(1);
    return NULL;                    /* exits holding it */
}

struct locker { pthread_mutex_t *m; atomic_int started; int rc; };
static void *r_locker(void *arg)
{
    struct locker *l = arg;
    atomic_store(&l->started, 1);
    l->rc = pthread_mutex_lock(l->m);
    if (l->rc == EOWNERDEAD) {
        /* we own it now: make it consistent and release */
        int c = pthread_mutex_consistent(l->m);
        int u = pthread_mutex_unlock(l->m);
        if (c || u)
            die("robust locker: consistent returned %d, unlock %d (expected 0, 0)", c, u);
    }
    return NULL;
}

static void init_robust(pthread_mutex_t *m, int type)
{
    pthread_mutexattr_t a;
    EXPECT_RC(pthread_mutexattr_init(&a), 0);
    EXPECT_RC(pthread_mutexattr_settype(&a, type), 0);
    EXPECT_RC(pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST), 0);
    EXPECT_RC(pthread_mutex_init(m, &a), 0);
    EXPECT_RC(pthread_mutexattr_destroy(&a), 0);
}

static void test_robust(void)
{
    init_robust(&r_mtx, PTHREAD_MUTEX_NORMAL);

    /* plain use first */
    EXPECT_RC(pthread_mutex_lock(&r_mtx), 0);
    EXPECT_RC(pthread_mutex_consistent(&r_mtx), EINVAL);   /* consistent already */
    EXPECT_RC(pthread_mutex_unlock(&r_mtx), 0);

    /* owner exits while a locker is blocked on the mutex */
    pthread_t to, tl;
    atomic_store(&r_held, 0);
    atomic_store(&r_exit, 0);
    EXPECT_RC(pthread_create(&to, NULL, r_owner, &r_mtx), 0);
    wait_flag(&r_held, 1, "robust owner to lock");
    struct locker l = { .m = &r_mtx, .rc = -1 };
    EXPECT_RC(pthread_create(&tl, NULL, r_locker, &l), 0);
    wait_flag(&l.started, 1, "robust locker to start");
    ms_sleep(20);   /* give it time to block (not needed for correctness) */
    atomic_store(&r_exit, 1);
    EXPECT_RC(pthread_join(to, NULL), 0);
    EXPECT_RC(pthread_join(tl, NULL), 0);
    if (l.rc != EOWNERDEAD)
        die("robust: locker blocked while the owner exited: expected EOWNERDEAD (%d), got %d (%s)",
            EOWNERDEAD, l.rc, strerror(l.rc));
    /* recovered: normal use */
    EXPECT_RC(pthread_mutex_lock(&r_mtx), 0);
    EXPECT_RC(pthread_mutex_unlock(&r_mtx), 0);
    EXPECT_RC(pthread_mutex_trylock(&r_mtx), 0);
    EXPECT_RC(pthread_mutex_unlock(&r_mtx), 0);

    /* owner exits, then a later lock (not blocked before) gets EOWNERDEAD */
    atomic_store(&r_held, 0);
    atomic_store(&r_exit, 1);
    EXPECT_RC(pthread_create(&to, NULL, r_owner, &r_mtx), 0);
    EXPECT_RC(pthread_join(to, NULL), 0);
    if (!atomic_load(&r_held))
        die("robust owner did not lock");
    EXPECT_RC(pthread_mutex_lock(&r_mtx), EOWNERDEAD);
    EXPECT_RC(pthread_mutex_consistent(&r_mtx), 0);
    EXPECT_RC(pthread_mutex_unlock(&r_mtx), 0);
    EXPECT_RC(pthread_mutex_lock(&r_mtx), 0);
    EXPECT_RC(pthread_mutex_unlock(&r_mtx), 0);
    EXPECT_RC(pthread_mutex_destroy(&r_mtx), 0);

    /* robust errorcheck: relock -> EDEADLK; not recoverable case */
    pthread_mutex_t m;
    init_robust(&m, PTHREAD_MUTEX_ERRORCHECK);
    EXPECT_RC(pthread_mutex_lock(&m), 0);
    EXPECT_RC(pthread_mutex_lock(&m), EDEADLK);
    /* glibc: robust errorcheck trylock by the owner is EDEADLK, not the
     * plain errorcheck's EBUSY (found by a fresh-eyes review) */
    EXPECT_RC(pthread_mutex_trylock(&m), EDEADLK);
    EXPECT_RC(pthread_mutex_unlock(&m), 0);
    EXPECT_RC(pthread_mutex_unlock(&m), EPERM);
    atomic_store(&r_held, 0);
    atomic_store(&r_exit, 1);
    EXPECT_RC(pthread_create(&to, NULL, r_owner, &m), 0);
    EXPECT_RC(pthread_join(to, NULL), 0);
    EXPECT_RC(pthread_mutex_trylock(&m), EOWNERDEAD);
    EXPECT_RC(pthread_mutex_unlock(&m), 0);      /* without consistent */
    EXPECT_RC(pthread_mutex_lock(&m), ENOTRECOVERABLE);
    EXPECT_RC(on_other_thread(pthread_mutex_lock, &m), ENOTRECOVERABLE);
    /* Last: glibc 2.36's trylock returns ENOTRECOVERABLE but leaves the
     * lock word taken, so nothing may lock it after this. */
    EXPECT_RC(pthread_mutex_trylock(&m), ENOTRECOVERABLE);
    EXPECT_RC(pthread_mutex_destroy(&m), 0);
}

int main(void)
{
    test_normal();
    test_recursive();
    test_errorcheck();
    test_timed();
    test_static();
    test_attr();
    test_robust();
    printf("sync_mutex: OK\n");
    return 0;
}
