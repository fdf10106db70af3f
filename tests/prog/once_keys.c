// once_keys: pthread_once and thread-specific data (pthread_key_*).
//
// Why: both rely on per-thread state and on what happens at thread exit,
// which greenrun's green threads take over from glibc.
//
// pthread_once: 1,000 threads are released together (a start flag) and all
// call pthread_once; the init routine sleeps 20 ms so that the others must
// wait for it.  Checks: init ran exactly once, and every caller, on return,
// sees the value init wrote (a plain int: pthread_once must synchronise).
//
// keys: 100 threads, each:
//   - getspecific on a key it never set -> NULL;
//   - k_once (destructor d_once): value = &slot[i]; after sleep/yield
//     getspecific still returns it; at exit d_once runs exactly once, with that
//     value, on this thread (pthread_self() in the destructor == the thread);
//   - k_thrice: d_thrice re-sets the value on its 1st and 2nd call -> called
//     exactly 3 times (destructor rounds);
//   - k_forever: d_forever always re-sets -> glibc stops after exactly
//     PTHREAD_DESTRUCTOR_ITERATIONS rounds (POSIX: at least that many; we
//     want glibc's behaviour).  It stops re-setting after 1000 calls so an
//     endless implementation fails instead of hanging;
//   - k_null: set then reset to NULL -> destructor never called;
//   - k_nodtor: key without destructor, value set -> nothing happens;
//   - k_deleted: value set, then main deletes the key while the thread is
//     alive -> its destructor is never called; main then creates k_new
//     (which may reuse the slot) and the thread's getspecific(k_new) is NULL.
// Then in main: key_delete of live keys -> 0; deleting an already deleted key
// and a key number >= PTHREAD_KEYS_MAX -> EINVAL.
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NONCE 1000
#define NKEY 100

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "FAIL once_keys: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static void ms_sleep(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Poll until *v >= want, failing after 60 s. */
static void wait_for(atomic_int *v, int want, const char *what)
{
    double deadline = now_s() + 60;
    while (atomic_load(v) < want) {
        if (now_s() > deadline)
            die("timed out waiting for %s: %d of %d", what, atomic_load(v), want);
        ms_sleep(1);
    }
}

/* ---------------- pthread_once ---------------- */
static pthread_once_t once = PTHREAD_ONCE_INIT;
static atomic_int init_calls, once_arrived, once_go, once_bad;
static int init_value;              /* plain: published by pthread_once */

static void init_routine(void)
{
    atomic_fetch_add(&init_calls, 1);
    ms_sleep(20);
    init_value = 42;
}

static void *once_thread(void *arg)
{
    atomic_fetch_add(&once_arrived, 1);
    while (!atomic_load(&once_go))
        ms_sleep(1);
    int rc = pthread_once(&once, init_routine);
    if (rc != 0 || init_value != 42) {
        fprintf(stderr, "FAIL once_keys: thread %ld: pthread_once returned %d (expected 0), "
                "then init_value expected 42, got %d\n", (long)(intptr_t)arg, rc, init_value);
        atomic_fetch_add(&once_bad, 1);
    }
    return NULL;
}

static void test_once(void)
{
    static pthread_t t[NONCE];
    for (int i = 0; i < NONCE; i++) {
        int rc = pthread_create(&t[i], NULL, once_thread, (void *)(intptr_t)i);
        if (rc != 0)
            die("pthread_create (once) #%d: %s", i, strerror(rc));
    }
    wait_for(&once_arrived, NONCE, "once threads to arrive");
    atomic_store(&once_go, 1);
    for (int i = 0; i < NONCE; i++) {
        int rc = pthread_join(t[i], NULL);
        if (rc != 0)
            die("pthread_join (once) #%d: %s", i, strerror(rc));
    }
    if (atomic_load(&once_bad) != 0)
        die("%d threads returned from pthread_once before seeing init's effect", atomic_load(&once_bad));
    if (atomic_load(&init_calls) != 1)
        die("pthread_once init routine: expected 1 call, got %d", atomic_load(&init_calls));
    /* A later call must not run it again. */
    pthread_once(&once, init_routine);
    if (atomic_load(&init_calls) != 1)
        die("pthread_once after completion ran init again (%d calls)", atomic_load(&init_calls));
}

/* ---------------- keys ---------------- */
static pthread_key_t k_once, k_thrice, k_forever, k_null, k_nodtor, k_never, k_deleted, k_new;
static int slot_once[NKEY], slot_thrice[NKEY], slot_forever[NKEY], slot_null[NKEY],
           slot_nodtor[NKEY], slot_deleted[NKEY];
static atomic_int calls_once[NKEY], calls_thrice[NKEY], calls_forever[NKEY], calls_null,
                  calls_deleted, bad_value;
static pthread_t self_of[NKEY];
static atomic_int self_mismatch;
static atomic_int key_arrived, key_deleted_go;

static int slot_index(void *v, int *base)
{
    intptr_t i = (int *)v - base;
    if (i < 0 || i >= NKEY) {
        atomic_fetch_add(&bad_value, 1);
        return -1;
    }
    return (int)i;
}

static void d_once(void *v)
{
    int i = slot_index(v, slot_once);
    if (i < 0)
        return;
    atomic_fetch_add(&calls_once[i], 1);
    if (!pthread_equal(pthread_self(), self_of[i]))
        atomic_fetch_add(&self_mismatch, 1);
    /* During destructor rounds getspecific on this key returns NULL. */
    if (pthread_getspecific(k_once) != NULL)
        atomic_fetch_add(&bad_value, 1);
}

static void d_thrice(void *v)
{
    int i = slot_index(v, slot_thrice);
    if (i < 0)
        return;
    if (atomic_fetch_add(&calls_thrice[i], 1) + 1 < 3)
        pthread_setspecific(k_thrice, v);
}

static void d_forever(void *v)
{
    int i = slot_index(v, slot_forever);
    if (i < 0)
        return;
    if (atomic_fetch_add(&calls_forever[i], 1) + 1 < 1000)
        pthread_setspecific(k_forever, v);
}

static void d_null(void *v) { (void)v; atomic_fetch_add(&calls_null, 1); }
static void d_deleted(void *v) { (void)v; atomic_fetch_add(&calls_deleted, 1); }

static void *key_thread(void *arg)
{
    int i = (int)(intptr_t)arg;
    self_of[i] = pthread_self();

    if (pthread_getspecific(k_never) != NULL)
        die("thread %d: getspecific(never-set key) expected NULL, got %p", i, pthread_getspecific(k_never));

    struct { pthread_key_t k; int *base; } sets[] = {
        { k_once, slot_once }, { k_thrice, slot_thrice }, { k_forever, slot_forever },
        { k_null, slot_null }, { k_nodtor, slot_nodtor }, { k_deleted, slot_deleted },
    };
    for (unsigned s = 0; s < sizeof sets / sizeof sets[0]; s++) {
        if (pthread_getspecific(sets[s].k) != NULL)
            die("thread %d: key %u: fresh thread's getspecific expected NULL, got %p", i, s,
                pthread_getspecific(sets[s].k));
        int rc = pthread_setspecific(sets[s].k, &sets[s].base[i]);
        if (rc != 0)
            die("thread %d: setspecific #%u: expected 0, got %d", i, s, rc);
    }
    if (pthread_setspecific(k_null, NULL) != 0)
        die("thread %d: setspecific(NULL) failed", i);

    for (int r = 0; r < 3; r++) {
        ms_sleep(1);
        sched_yield();
        for (unsigned s = 0; s < sizeof sets / sizeof sets[0]; s++) {
            void *want = sets[s].k == k_null ? NULL : &sets[s].base[i];
            void *got = pthread_getspecific(sets[s].k);
            if (got != want)
                die("thread %d round %d: key #%u: getspecific expected %p, got %p", i, r, s, want, got);
        }
    }

    atomic_fetch_add(&key_arrived, 1);
    while (!atomic_load(&key_deleted_go))
        ms_sleep(1);
    /* k_new was created after k_deleted was deleted, possibly in its slot. */
    if (pthread_getspecific(k_new) != NULL)
        die("thread %d: getspecific(key created after delete) expected NULL, got %p", i,
            pthread_getspecific(k_new));
    return NULL;
}

static void test_keys(void)
{
    struct { pthread_key_t *k; void (*d)(void *); } mk[] = {
        { &k_once, d_once }, { &k_thrice, d_thrice }, { &k_forever, d_forever },
        { &k_null, d_null }, { &k_nodtor, NULL }, { &k_never, d_null }, { &k_deleted, d_deleted },
    };
    for (unsigned m = 0; m < sizeof mk / sizeof mk[0]; m++) {
        int rc = pthread_key_create(mk[m].k, mk[m].d);
        if (rc != 0)
            die("pthread_key_create #%u: expected 0, got %d", m, rc);
    }
    if (pthread_getspecific(k_never) != NULL)
        die("main: getspecific(never-set key) expected NULL");

    static pthread_t t[NKEY];
    for (int i = 0; i < NKEY; i++) {
        int rc = pthread_create(&t[i], NULL, key_thread, (void *)(intptr_t)i);
        if (rc != 0)
            die("pthread_create (keys) #%d: %s", i, strerror(rc));
    }
    wait_for(&key_arrived, NKEY, "key threads to set their values");
    int rc = pthread_key_delete(k_deleted);
    if (rc != 0)
        die("pthread_key_delete(key with live values): expected 0, got %d", rc);
    rc = pthread_key_create(&k_new, d_deleted);
    if (rc != 0)
        die("pthread_key_create(k_new): expected 0, got %d", rc);
    atomic_store(&key_deleted_go, 1);
    for (int i = 0; i < NKEY; i++) {
        rc = pthread_join(t[i], NULL);
        if (rc != 0)
            die("pthread_join (keys) #%d: %s", i, strerror(rc));
    }

    if (atomic_load(&bad_value))
        die("%d destructor calls got a wrong value (or getspecific non-NULL inside a destructor)",
            atomic_load(&bad_value));
    if (atomic_load(&self_mismatch))
        die("%d destructors ran with pthread_self() != the exiting thread", atomic_load(&self_mismatch));
    for (int i = 0; i < NKEY; i++) {
        if (atomic_load(&calls_once[i]) != 1)
            die("thread %d: destructor of k_once: expected 1 call, got %d", i, atomic_load(&calls_once[i]));
        if (atomic_load(&calls_thrice[i]) != 3)
            die("thread %d: destructor re-setting twice: expected 3 calls, got %d", i,
                atomic_load(&calls_thrice[i]));
        if (atomic_load(&calls_forever[i]) != PTHREAD_DESTRUCTOR_ITERATIONS)
            die("thread %d: destructor always re-setting: expected PTHREAD_DESTRUCTOR_ITERATIONS=%d calls "
                "(glibc), got %d", i, PTHREAD_DESTRUCTOR_ITERATIONS, atomic_load(&calls_forever[i]));
    }
    if (atomic_load(&calls_null) != 0)
        die("destructor called %d times for NULL values / never-set key, expected 0", atomic_load(&calls_null));
    if (atomic_load(&calls_deleted) != 0)
        die("destructor of a deleted key (or of k_new, never set) called %d times, expected 0",
            atomic_load(&calls_deleted));

    pthread_key_t live[] = { k_once, k_thrice, k_forever, k_null, k_nodtor, k_never, k_new };
    for (unsigned m = 0; m < sizeof live / sizeof live[0]; m++) {
        rc = pthread_key_delete(live[m]);
        if (rc != 0)
            die("pthread_key_delete(live key #%u): expected 0, got %d", m, rc);
    }
    rc = pthread_key_delete(k_once);
    if (rc != EINVAL)
        die("pthread_key_delete(already deleted key): expected EINVAL (%d), got %d", EINVAL, rc);
    rc = pthread_key_delete((pthread_key_t)PTHREAD_KEYS_MAX);
    if (rc != EINVAL)
        die("pthread_key_delete(PTHREAD_KEYS_MAX): expected EINVAL (%d), got %d", EINVAL, rc);
    rc = pthread_key_delete((pthread_key_t)-1);
    if (rc != EINVAL)
        die("pthread_key_delete((pthread_key_t)-1): expected EINVAL (%d), got %d", EINVAL, rc);
}

int main(void)
{
    test_once();
    test_keys();
    printf("once_keys: once x%d, keys x%d threads OK\n", NONCE, NKEY);
    return 0;
}
