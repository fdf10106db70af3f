// sync_rwlock: reader-writer locks (shim/rwlock.c).
//
// Why: greenrun's rwlocks park readers and writers on generation words;
// exclusion, the writer-preferring kind's no-starvation promise and glibc's
// error codes must all hold.
//
// Checks:
//   - exclusion: 6 readers x 20,000 read locks and 3 writers x 5,000 write
//     locks (plus tryrdlock/trywrlock retry loops and timed variants with a
//     far deadline), with atomic in-critical-section counters: a writer
//     inside sees 0 readers and 1 writer (itself), a reader inside sees 0
//     writers; writers bump two plain counters a and b with a yield in
//     between, readers check a == b; at the end a == b == 15,000 exactly
//     (every 10th acquisition is a try-loop, another a timed one); 0
//     violations;
//   - writer starvation, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP: 4
//     readers loop rdlock / yield while holding / unlock, overlapping so the
//     lock is never free of readers; a writer then asks for the lock.  New
//     readers must queue behind it: it gets the lock after fewer than 20,000
//     further read acquisitions (readers stop by themselves at 2,000,000,
//     so a starved writer is a failure message, not a hang);
//   - the same thread: wrlock then wrlock -> EDEADLK, wrlock then rdlock
//     -> EDEADLK (glibc);
//   - held for writing by another thread: tryrdlock and trywrlock -> EBUSY;
//     timedrdlock / timedwrlock (CLOCK_REALTIME) and clockrdlock /
//     clockwrlock (CLOCK_MONOTONIC) -> ETIMEDOUT, not before the deadline;
//     held for reading: tryrdlock -> 0, trywrlock -> EBUSY, timedwrlock ->
//     ETIMEDOUT; tv_nsec = 1e9 -> EINVAL, also on a free lock (glibc 2.36
//     checks the timespec up front for rwlocks); a bad clock -> EINVAL;
//   - attribute kind round-trip (getkind_np / setkind_np, EINVAL for a bad
//     kind), pshared round-trip;
//   - a static PTHREAD_RWLOCK_INITIALIZER lock, never init'ed, used by 50
//     readers and 50 writers at once: counter exactly 50 x 1,000.
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

#define TEST_NAME "sync_rwlock"
#include "sync_util.h"

/* ---------------- exclusion ---------------- */
#define NR 6
#define NW 3
#define RITERS 20000
#define WITERS 5000
static pthread_rwlock_t ex_l;
static atomic_int in_readers, in_writers, violations;
static long sh_a, sh_b;

static void *ex_reader(void *arg)
{
    int id = (int)(intptr_t)arg;
    for (int i = 0; i < RITERS; i++) {
        int rc;
        if (i % 10 == 3) {
            while ((rc = pthread_rwlock_tryrdlock(&ex_l)) == EBUSY)
                sched_yield();
        } else if (i % 10 == 7) {
            struct timespec dl = ts_in(CLOCK_REALTIME, 60000);
            rc = pthread_rwlock_timedrdlock(&ex_l, &dl);
        } else {
            rc = pthread_rwlock_rdlock(&ex_l);
        }
        if (rc)
            die("reader %d: read lock returned %d", id, rc);
        atomic_fetch_add(&in_readers, 1);
        if (atomic_load(&in_writers) != 0)
            atomic_fetch_add(&violations, 1);
        long a = sh_a;
        if ((i & 63) == 0)
            sched_yield();
        long b = sh_b;
        if (a != b || atomic_load(&in_writers) != 0)
            atomic_fetch_add(&violations, 1);
        atomic_fetch_sub(&in_readers, 1);
        rc = pthread_rwlock_unlock(&ex_l);
        if (rc)
            die("reader %d: unlock returned %d", id, rc);
    }
    return NULL;
}

static void *ex_writer(void *arg)
{
    int id = (int)(intptr_t)arg;
    for (int i = 0; i < WITERS; i++) {
        int rc;
        if (i % 10 == 3) {
            while ((rc = pthread_rwlock_trywrlock(&ex_l)) == EBUSY)
                sched_yield();
        } else if (i % 10 == 7) {
            struct timespec dl = ts_in(CLOCK_MONOTONIC, 60000);
            rc = pthread_rwlock_clockwrlock(&ex_l, CLOCK_MONOTONIC, &dl);
        } else {
            rc = pthread_rwlock_wrlock(&ex_l);
        }
        if (rc)
            die("writer %d: write lock returned %d", id, rc);
        if (atomic_fetch_add(&in_writers, 1) != 0 || atomic_load(&in_readers) != 0)
            atomic_fetch_add(&violations, 1);
        sh_a++;
        if ((i & 15) == 0)
            sched_yield();
        sh_b++;
        if (atomic_load(&in_readers) != 0 || atomic_load(&in_writers) != 1)
            atomic_fetch_add(&violations, 1);
        atomic_fetch_sub(&in_writers, 1);
        rc = pthread_rwlock_unlock(&ex_l);
        if (rc)
            die("writer %d: unlock returned %d", id, rc);
    }
    return NULL;
}

static void test_exclusion(void)
{
    EXPECT_RC(pthread_rwlock_init(&ex_l, NULL), 0);
    pthread_t r[NR], w[NW];
    for (int i = 0; i < NR; i++)
        EXPECT_RC(pthread_create(&r[i], NULL, ex_reader, (void *)(intptr_t)i), 0);
    for (int i = 0; i < NW; i++)
        EXPECT_RC(pthread_create(&w[i], NULL, ex_writer, (void *)(intptr_t)i), 0);
    for (int i = 0; i < NR; i++)
        EXPECT_RC(pthread_join(r[i], NULL), 0);
    for (int i = 0; i < NW; i++)
        EXPECT_RC(pthread_join(w[i], NULL), 0);
    if (atomic_load(&violations))
        die("exclusion: %d violations (reader saw a writer inside / writer saw others inside / a != b)",
            atomic_load(&violations));
    if (sh_a != NW * WITERS || sh_b != NW * WITERS)
        die("exclusion: a = %ld, b = %ld, expected %d each", sh_a, sh_b, NW * WITERS);
    EXPECT_RC(pthread_rwlock_destroy(&ex_l), 0);
}

/* ---------------- writer starvation ---------------- */
#define SR 4
#define MAX_READS 2000000L
#define STARVE_BOUND 20000L
static pthread_rwlock_t sv_l;
static atomic_long sv_reads;          /* read acquisitions so far */
static atomic_int sv_stop, sv_readers_up, sv_in_readers, sv_violations;
static long sv_waited;   /* reads granted while the writer waited */

static void *sv_reader(void *arg)
{
    (void)arg;
    atomic_fetch_add(&sv_readers_up, 1);
    while (!atomic_load(&sv_stop) && atomic_load(&sv_reads) < MAX_READS) {
        int rc = pthread_rwlock_rdlock(&sv_l);
        if (rc)
            die("starvation reader: rdlock returned %d", rc);
        atomic_fetch_add(&sv_reads, 1);
        atomic_fetch_add(&sv_in_readers, 1);
        /* hold it across a yield so that readers overlap */
        sched_yield();
        for (volatile int k = 0; k < 200; k++)
            ;
        atomic_fetch_sub(&sv_in_readers, 1);
        pthread_rwlock_unlock(&sv_l);
    }
    return NULL;
}

static void test_starvation(void)
{
    pthread_rwlockattr_t a;
    int k;
    EXPECT_RC(pthread_rwlockattr_init(&a), 0);
    EXPECT_RC(pthread_rwlockattr_getkind_np(&a, &k), 0);
    if (k != PTHREAD_RWLOCK_PREFER_READER_NP)
        die("rwlockattr default kind: expected PREFER_READER_NP, got %d", k);
    EXPECT_RC(pthread_rwlockattr_setkind_np(&a, 77), EINVAL);
    EXPECT_RC(pthread_rwlockattr_setkind_np(&a, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP), 0);
    EXPECT_RC(pthread_rwlockattr_getkind_np(&a, &k), 0);
    if (k != PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP)
        die("rwlockattr kind round-trip: expected %d, got %d", PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP, k);
    int p;
    EXPECT_RC(pthread_rwlockattr_getpshared(&a, &p), 0);
    if (p != PTHREAD_PROCESS_PRIVATE)
        die("rwlockattr default pshared: expected PRIVATE, got %d", p);
    EXPECT_RC(pthread_rwlockattr_setpshared(&a, PTHREAD_PROCESS_SHARED), 0);
    EXPECT_RC(pthread_rwlockattr_getpshared(&a, &p), 0);
    if (p != PTHREAD_PROCESS_SHARED)
        die("rwlockattr pshared round-trip: expected SHARED, got %d", p);
    EXPECT_RC(pthread_rwlockattr_setpshared(&a, PTHREAD_PROCESS_PRIVATE), 0);
    EXPECT_RC(pthread_rwlockattr_setpshared(&a, 5), EINVAL);
    EXPECT_RC(pthread_rwlock_init(&sv_l, &a), 0);
    EXPECT_RC(pthread_rwlockattr_destroy(&a), 0);

    pthread_t r[SR];
    for (int i = 0; i < SR; i++)
        EXPECT_RC(pthread_create(&r[i], NULL, sv_reader, NULL), 0);
    wait_flag(&sv_readers_up, SR, "starvation readers to start");
    /* let them get going (a few thousand overlapping reads) */
    double deadline = now_s() + 30;
    while (atomic_load(&sv_reads) < 2000) {
        if (now_s() > deadline)
            die("starvation readers made only %ld reads in 30 s", atomic_load(&sv_reads));
        sched_yield();
    }
    long before = atomic_load(&sv_reads);
    int rc = pthread_rwlock_wrlock(&sv_l);
    long after = atomic_load(&sv_reads);
    if (rc)
        die("starvation writer: wrlock returned %d", rc);
    if (atomic_load(&sv_in_readers) != 0)
        atomic_fetch_add(&sv_violations, 1);
    atomic_store(&sv_stop, 1);
    EXPECT_RC(pthread_rwlock_unlock(&sv_l), 0);
    for (int i = 0; i < SR; i++)
        EXPECT_RC(pthread_join(r[i], NULL), 0);
    if (atomic_load(&sv_violations))
        die("starvation: writer got the lock with readers inside");
    if (after - before >= STARVE_BOUND)
        die("writer starvation with PREFER_WRITER_NONRECURSIVE_NP: %ld read locks were granted while "
            "the writer waited (bound %ld; readers stop at %ld)", after - before, STARVE_BOUND, MAX_READS);
    sv_waited = after - before;
    EXPECT_RC(pthread_rwlock_destroy(&sv_l), 0);
}

/* ---------------- error cases ---------------- */
struct holder {
    pthread_rwlock_t *l;
    int write;
    atomic_int locked, release;
    int rc;
};

static void *holder_main(void *arg)
{
    struct holder *h = arg;
    h->rc = h->write ? pthread_rwlock_wrlock(h->l) : pthread_rwlock_rdlock(h->l);
    atomic_store(&h->locked, 1);
    double deadline = now_s() + 60;
    while (!atomic_load(&h->release) && now_s() < deadline)
        ms_sleep(1);
    if (h->rc == 0)
        h->rc = pthread_rwlock_unlock(h->l);
    return NULL;
}

static void test_errors(void)
{
    pthread_rwlock_t l;
    EXPECT_RC(pthread_rwlock_init(&l, NULL), 0);

    /* same thread */
    EXPECT_RC(pthread_rwlock_wrlock(&l), 0);
    EXPECT_RC(pthread_rwlock_wrlock(&l), EDEADLK);
    EXPECT_RC(pthread_rwlock_rdlock(&l), EDEADLK);
    EXPECT_RC(pthread_rwlock_unlock(&l), 0);
    EXPECT_RC(pthread_rwlock_rdlock(&l), 0);
    EXPECT_RC(pthread_rwlock_rdlock(&l), 0);       /* read twice: fine */
    EXPECT_RC(pthread_rwlock_unlock(&l), 0);
    EXPECT_RC(pthread_rwlock_unlock(&l), 0);

    /* write-held by another thread */
    struct holder h = { .l = &l, .write = 1 };
    pthread_t t;
    EXPECT_RC(pthread_create(&t, NULL, holder_main, &h), 0);
    wait_flag(&h.locked, 1, "write holder");
    if (h.rc)
        die("write holder: wrlock returned %d", h.rc);
    EXPECT_RC(pthread_rwlock_tryrdlock(&l), EBUSY);
    EXPECT_RC(pthread_rwlock_trywrlock(&l), EBUSY);
    struct timespec dl = ts_in(CLOCK_REALTIME, 40);
    EXPECT_RC(pthread_rwlock_timedrdlock(&l, &dl), ETIMEDOUT);
    check_not_early(CLOCK_REALTIME, &dl, "pthread_rwlock_timedrdlock (40 ms)");
    dl = ts_in(CLOCK_REALTIME, 40);
    EXPECT_RC(pthread_rwlock_timedwrlock(&l, &dl), ETIMEDOUT);
    check_not_early(CLOCK_REALTIME, &dl, "pthread_rwlock_timedwrlock (40 ms)");
    dl = ts_in(CLOCK_MONOTONIC, 40);
    EXPECT_RC(pthread_rwlock_clockrdlock(&l, CLOCK_MONOTONIC, &dl), ETIMEDOUT);
    check_not_early(CLOCK_MONOTONIC, &dl, "pthread_rwlock_clockrdlock(CLOCK_MONOTONIC, 40 ms)");
    dl = ts_in(CLOCK_MONOTONIC, 40);
    EXPECT_RC(pthread_rwlock_clockwrlock(&l, CLOCK_MONOTONIC, &dl), ETIMEDOUT);
    check_not_early(CLOCK_MONOTONIC, &dl, "pthread_rwlock_clockwrlock(CLOCK_MONOTONIC, 40 ms)");
    struct timespec bad = ts_in(CLOCK_REALTIME, 1000);
    bad.tv_nsec = 1000000000L;
    EXPECT_RC(pthread_rwlock_timedrdlock(&l, &bad), EINVAL);
    EXPECT_RC(pthread_rwlock_timedwrlock(&l, &bad), EINVAL);
    struct timespec ok = ts_in(CLOCK_MONOTONIC, 1000);
    EXPECT_RC(pthread_rwlock_clockrdlock(&l, CLOCK_PROCESS_CPUTIME_ID, &ok), EINVAL);
    EXPECT_RC(pthread_rwlock_clockwrlock(&l, CLOCK_PROCESS_CPUTIME_ID, &ok), EINVAL);
    atomic_store(&h.release, 1);
    EXPECT_RC(pthread_join(t, NULL), 0);
    if (h.rc)
        die("write holder: unlock returned %d", h.rc);

    /* free: glibc 2.36 checks the timespec up front anyway (POSIX allows
     * either; unlike its mutexes), and the lock stays free */
    EXPECT_RC(pthread_rwlock_timedwrlock(&l, &bad), EINVAL);
    EXPECT_RC(pthread_rwlock_timedrdlock(&l, &bad), EINVAL);
    EXPECT_RC(pthread_rwlock_clockwrlock(&l, CLOCK_MONOTONIC, &bad), EINVAL);
    EXPECT_RC(pthread_rwlock_trywrlock(&l), 0);
    EXPECT_RC(pthread_rwlock_unlock(&l), 0);

    /* read-held by another thread */
    struct holder hr = { .l = &l, .write = 0 };
    EXPECT_RC(pthread_create(&t, NULL, holder_main, &hr), 0);
    wait_flag(&hr.locked, 1, "read holder");
    if (hr.rc)
        die("read holder: rdlock returned %d", hr.rc);
    EXPECT_RC(pthread_rwlock_tryrdlock(&l), 0);
    EXPECT_RC(pthread_rwlock_unlock(&l), 0);
    EXPECT_RC(pthread_rwlock_trywrlock(&l), EBUSY);
    dl = ts_in(CLOCK_REALTIME, 40);
    EXPECT_RC(pthread_rwlock_timedwrlock(&l, &dl), ETIMEDOUT);
    check_not_early(CLOCK_REALTIME, &dl, "pthread_rwlock_timedwrlock on a read-held lock (40 ms)");
    /* after the timed-out writer left, readers still get in */
    dl = ts_in(CLOCK_REALTIME, 10000);
    EXPECT_RC(pthread_rwlock_timedrdlock(&l, &dl), 0);
    EXPECT_RC(pthread_rwlock_unlock(&l), 0);
    /* a writer that waits until the reader leaves */
    atomic_store(&hr.release, 1);
    dl = ts_in(CLOCK_MONOTONIC, 20000);
    EXPECT_RC(pthread_rwlock_clockwrlock(&l, CLOCK_MONOTONIC, &dl), 0);
    EXPECT_RC(pthread_rwlock_unlock(&l), 0);
    EXPECT_RC(pthread_join(t, NULL), 0);
    if (hr.rc)
        die("read holder: unlock returned %d", hr.rc);
    EXPECT_RC(pthread_rwlock_destroy(&l), 0);
}

/* ---------------- static initialiser ---------------- */
#define NST 50
#define STI 1000
static pthread_rwlock_t st_l = PTHREAD_RWLOCK_INITIALIZER;
static long st_counter;
static atomic_int st_bad, st_go, st_up;

static void *st_thread(void *arg)
{
    int writer = (int)(intptr_t)arg;
    atomic_fetch_add(&st_up, 1);
    double deadline = now_s() + 30;
    while (!atomic_load(&st_go)) {
        if (now_s() > deadline)
            die("static rwlock: start flag never came");
        sched_yield();
    }
    for (int i = 0; i < STI; i++) {
        if (writer) {
            if (pthread_rwlock_wrlock(&st_l))
                atomic_fetch_add(&st_bad, 1);
            long v = st_counter;
            if ((i & 31) == 0)
                sched_yield();
            st_counter = v + 1;
        } else {
            if (pthread_rwlock_rdlock(&st_l))
                atomic_fetch_add(&st_bad, 1);
            long v = st_counter;
            if ((i & 31) == 0)
                sched_yield();
            if (v != st_counter)
                atomic_fetch_add(&st_bad, 1);
        }
        if (pthread_rwlock_unlock(&st_l))
            atomic_fetch_add(&st_bad, 1);
    }
    return NULL;
}

static void test_static(void)
{
    pthread_t t[2 * NST];
    for (int i = 0; i < 2 * NST; i++)
        EXPECT_RC(pthread_create(&t[i], NULL, st_thread, (void *)(intptr_t)(i & 1)), 0);
    wait_flag(&st_up, 2 * NST, "static rwlock threads to start");
    atomic_store(&st_go, 1);
    for (int i = 0; i < 2 * NST; i++)
        EXPECT_RC(pthread_join(t[i], NULL), 0);
    if (atomic_load(&st_bad))
        die("static PTHREAD_RWLOCK_INITIALIZER: %d errors or torn reads", atomic_load(&st_bad));
    if (st_counter != NST * STI)
        die("static PTHREAD_RWLOCK_INITIALIZER: counter expected %d, got %ld", NST * STI, st_counter);
}

int main(void)
{
    test_errors();
    test_exclusion();
    test_starvation();
    test_static();
    printf("sync_rwlock: OK (writer waited through %ld read locks)\n", sv_waited);
    return 0;
}
