// sync_c11: C11 <threads.h> (shim/c11.c).
//
// Why: glibc implements thrd_*, mtx_*, cnd_*, tss_* and call_once by
// calling its internal __pthread_* functions directly, not through the
// PLT, so interposing pthread_* alone does not catch them: each must be
// handled by greenrun itself, with glibc's thrd_* result codes.
//
// Checks:
//   - thrd_create -> thrd_success; 20 threads return 1000 + i (one via
//     thrd_exit from a nested call); thrd_join gets each value exactly and
//     returns thrd_success; thrd_current / thrd_equal identify the thread;
//   - mtx_init(mtx_plain), (mtx_recursive), (mtx_timed),
//     (mtx_timed | mtx_recursive) -> thrd_success; plain: 4 threads x
//     25,000 locked increments -> exactly 100,000; mtx_trylock on a mutex
//     held by another thread -> thrd_busy; recursive: lock 3 times, unlock 3
//     times, then another thread can take it; mtx_timedlock on a mutex
//     held by another thread -> thrd_timedout, not before the TIME_UTC
//     deadline; mtx_timedlock on a free mutex -> thrd_success;
//   - cnd_*: ping-pong 10,000 round trips with cnd_signal (exact turn
//     counts); cnd_broadcast wakes all 10 waiters (each counted under the
//     mutex before it waits; they use cnd_timedwait with a 20 s bound, so a
//     missed wake-up is counted, not a hang): exactly 10 woken;
//     cnd_timedwait with nobody signalling -> thrd_timedout, not early;
//   - tss_create with a destructor -> thrd_success; 50 threads each
//     tss_set their own value; tss_get returns it after a thrd_yield and a
//     thrd_sleep; at thread exit the destructor runs exactly once per
//     thread with that thread's value (50 calls, each slot once); main's
//     own value is not destroyed by other threads' exits;
//   - call_once raced by 100 threads released together; the once function
//     sleeps 20 ms (thrd_sleep) so the others must wait for it: it runs
//     exactly once and every caller sees its result after call_once returns.
// greenrun-test: env=GREENRUN_PROCS=1
// greenrun-test: env=GREENRUN_PROCS=2
// greenrun-test: timeout=90
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <threads.h>
#include <time.h>

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "FAIL sync_c11: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static const char *thrd_name(int r)
{
    switch (r) {
    case thrd_success: return "thrd_success";
    case thrd_busy: return "thrd_busy";
    case thrd_error: return "thrd_error";
    case thrd_nomem: return "thrd_nomem";
    case thrd_timedout: return "thrd_timedout";
    default: return "?";
    }
}

#define EXPECT_T(call, want) do {                                             \
        int r_ = (call);                                                      \
        if (r_ != (want))                                                     \
            die("line %d: %s: expected %s, got %d (%s)", __LINE__, #call,     \
                #want, r_, thrd_name(r_));                                    \
    } while (0)

static void ms_sleep(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    thrd_sleep(&ts, NULL);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static struct timespec utc_in(long ms)
{
    struct timespec t;
    if (timespec_get(&t, TIME_UTC) != TIME_UTC)
        die("timespec_get(TIME_UTC) failed");
    t.tv_sec += ms / 1000;
    t.tv_nsec += (ms % 1000) * 1000000L;
    if (t.tv_nsec >= 1000000000L) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000L;
    }
    return t;
}

static void check_not_early(const struct timespec *dl, const char *what)
{
    struct timespec now;
    timespec_get(&now, TIME_UTC);
    if (now.tv_sec < dl->tv_sec || (now.tv_sec == dl->tv_sec && now.tv_nsec < dl->tv_nsec))
        die("%s returned thrd_timedout before its deadline (%ld.%09ld < %ld.%09ld)", what, (long)now.tv_sec,
            now.tv_nsec, (long)dl->tv_sec, dl->tv_nsec);
}

static void wait_flag(atomic_int *f, int want, const char *what)
{
    double deadline = now_s() + 30;
    while (atomic_load(f) < want) {
        if (now_s() > deadline)
            die("timed out (30 s) waiting for %s (%d of %d)", what, atomic_load(f), want);
        ms_sleep(1);
    }
}

/* ---------------- thrd ---------------- */
static thrd_t self_of[20];

static _Noreturn void exit_deep(int v)
{
    thrd_exit(v);
}

static int thr_main(void *arg)
{
    int i = (int)(intptr_t)arg;
    self_of[i] = thrd_current();
    thrd_yield();
    if (i == 7)
        exit_deep(1000 + i);
    return 1000 + i;
}

static void test_thrd(void)
{
    thrd_t t[20];
    for (int i = 0; i < 20; i++)
        EXPECT_T(thrd_create(&t[i], thr_main, (void *)(intptr_t)i), thrd_success);
    for (int i = 0; i < 20; i++) {
        int res = -1;
        EXPECT_T(thrd_join(t[i], &res), thrd_success);
        if (res != 1000 + i)
            die("thrd_join #%d: result expected %d, got %d", i, 1000 + i, res);
        if (!thrd_equal(self_of[i], t[i]))
            die("thread #%d: thrd_current() differs from the thrd_t of thrd_create", i);
    }
    if (thrd_equal(t[0], t[1]))
        die("thrd_equal of two different threads returned nonzero");
    if (!thrd_equal(thrd_current(), thrd_current()))
        die("thrd_equal(current, current) returned 0");
}

/* ---------------- mtx ---------------- */
static mtx_t m_plain, m_rec, m_timed, m_timed_rec;
static long m_counter;

static int inc_main(void *arg)
{
    (void)arg;
    for (int i = 0; i < 25000; i++) {
        if (mtx_lock(&m_plain) != thrd_success)
            die("mtx_lock(plain) failed");
        m_counter++;
        if ((i & 1023) == 0)
            thrd_yield();
        if (mtx_unlock(&m_plain) != thrd_success)
            die("mtx_unlock(plain) failed");
    }
    return 0;
}

struct hold { mtx_t *m; atomic_int locked, release; int rc; };
static int hold_main(void *arg)
{
    struct hold *h = arg;
    h->rc = mtx_lock(h->m);
    atomic_store(&h->locked, 1);
    double deadline = now_s() + 60;
    while (!atomic_load(&h->release) && now_s() < deadline)
        ms_sleep(1);
    if (h->rc == thrd_success)
        h->rc = mtx_unlock(h->m);
    return 0;
}

static int try_main(void *arg)
{
    return mtx_trylock((mtx_t *)arg);
}

static int try_other(mtx_t *m)
{
    thrd_t t;
    int res = -1;
    EXPECT_T(thrd_create(&t, try_main, m), thrd_success);
    EXPECT_T(thrd_join(t, &res), thrd_success);
    if (res == thrd_success)
        mtx_unlock(m);      /* never happens in a passing run */
    return res;
}

static void test_mtx(void)
{
    EXPECT_T(mtx_init(&m_plain, mtx_plain), thrd_success);
    EXPECT_T(mtx_init(&m_rec, mtx_recursive), thrd_success);
    EXPECT_T(mtx_init(&m_timed, mtx_timed), thrd_success);
    EXPECT_T(mtx_init(&m_timed_rec, mtx_timed | mtx_recursive), thrd_success);

    thrd_t t[4];
    for (int i = 0; i < 4; i++)
        EXPECT_T(thrd_create(&t[i], inc_main, NULL), thrd_success);
    for (int i = 0; i < 4; i++)
        EXPECT_T(thrd_join(t[i], NULL), thrd_success);
    if (m_counter != 100000)
        die("mtx_plain counter: expected 100000, got %ld", m_counter);

    EXPECT_T(mtx_lock(&m_plain), thrd_success);
    EXPECT_T(try_other(&m_plain), thrd_busy);
    EXPECT_T(mtx_unlock(&m_plain), thrd_success);
    EXPECT_T(mtx_trylock(&m_plain), thrd_success);
    EXPECT_T(mtx_unlock(&m_plain), thrd_success);

    for (int i = 0; i < 3; i++)
        EXPECT_T(mtx_lock(&m_rec), thrd_success);
    EXPECT_T(mtx_trylock(&m_rec), thrd_success);
    EXPECT_T(try_other(&m_rec), thrd_busy);
    for (int i = 0; i < 4; i++)
        EXPECT_T(mtx_unlock(&m_rec), thrd_success);
    struct hold hr = { .m = &m_rec };
    thrd_t th;
    EXPECT_T(thrd_create(&th, hold_main, &hr), thrd_success);
    wait_flag(&hr.locked, 1, "recursive mtx holder");
    atomic_store(&hr.release, 1);
    EXPECT_T(thrd_join(th, NULL), thrd_success);
    if (hr.rc != thrd_success)
        die("another thread could not lock/unlock the released recursive mtx: %s", thrd_name(hr.rc));

    /* timed */
    struct timespec dl = utc_in(1000);
    EXPECT_T(mtx_timedlock(&m_timed, &dl), thrd_success);
    EXPECT_T(mtx_unlock(&m_timed), thrd_success);
    struct hold h = { .m = &m_timed };
    EXPECT_T(thrd_create(&th, hold_main, &h), thrd_success);
    wait_flag(&h.locked, 1, "timed mtx holder");
    if (h.rc != thrd_success)
        die("timed mtx holder: mtx_lock returned %s", thrd_name(h.rc));
    dl = utc_in(50);
    EXPECT_T(mtx_timedlock(&m_timed, &dl), thrd_timedout);
    check_not_early(&dl, "mtx_timedlock (50 ms)");
    EXPECT_T(mtx_trylock(&m_timed), thrd_busy);
    atomic_store(&h.release, 1);
    dl = utc_in(20000);
    EXPECT_T(mtx_timedlock(&m_timed, &dl), thrd_success);   /* once released */
    EXPECT_T(mtx_unlock(&m_timed), thrd_success);
    EXPECT_T(thrd_join(th, NULL), thrd_success);

    EXPECT_T(mtx_lock(&m_timed_rec), thrd_success);
    dl = utc_in(1000);
    EXPECT_T(mtx_timedlock(&m_timed_rec, &dl), thrd_success);
    EXPECT_T(mtx_unlock(&m_timed_rec), thrd_success);
    EXPECT_T(mtx_unlock(&m_timed_rec), thrd_success);

    mtx_destroy(&m_plain);
    mtx_destroy(&m_rec);
    mtx_destroy(&m_timed);
    mtx_destroy(&m_timed_rec);
}

/* ---------------- cnd ---------------- */
#define PP 10000
#define NBW 10
static mtx_t c_m;
static cnd_t c_c;
static int c_turn, c_counts[2];
static int bw_waiting, bw_flag, bw_woken, bw_timedout;

static int pp_main(void *arg)
{
    int me = (int)(intptr_t)arg;
    for (int r = 0; r < PP; r++) {
        mtx_lock(&c_m);
        while (c_turn != me)
            if (cnd_wait(&c_c, &c_m) != thrd_success)
                die("cnd_wait failed");
        c_counts[me]++;
        c_turn = !me;
        if (cnd_signal(&c_c) != thrd_success)
            die("cnd_signal failed");
        mtx_unlock(&c_m);
    }
    return 0;
}

static int bw_main(void *arg)
{
    (void)arg;
    mtx_lock(&c_m);
    bw_waiting++;
    struct timespec dl = utc_in(20000);
    int r = thrd_success;
    while (!bw_flag && r != thrd_timedout) {
        r = cnd_timedwait(&c_c, &c_m, &dl);
        if (r != thrd_success && r != thrd_timedout)
            die("cnd_timedwait returned %s", thrd_name(r));
    }
    if (bw_flag)
        bw_woken++;
    else
        bw_timedout++;
    mtx_unlock(&c_m);
    return 0;
}

static void test_cnd(void)
{
    EXPECT_T(mtx_init(&c_m, mtx_plain), thrd_success);
    EXPECT_T(cnd_init(&c_c), thrd_success);
    thrd_t a, b;
    EXPECT_T(thrd_create(&a, pp_main, (void *)0), thrd_success);
    EXPECT_T(thrd_create(&b, pp_main, (void *)1), thrd_success);
    EXPECT_T(thrd_join(a, NULL), thrd_success);
    EXPECT_T(thrd_join(b, NULL), thrd_success);
    if (c_counts[0] != PP || c_counts[1] != PP || c_turn != 0)
        die("cnd ping-pong: counts %d/%d turn %d, expected %d/%d turn 0", c_counts[0], c_counts[1], c_turn, PP, PP);

    thrd_t w[NBW];
    for (int i = 0; i < NBW; i++)
        EXPECT_T(thrd_create(&w[i], bw_main, NULL), thrd_success);
    double deadline = now_s() + 30;
    for (;;) {
        mtx_lock(&c_m);
        if (bw_waiting == NBW)
            break;
        mtx_unlock(&c_m);
        if (now_s() > deadline)
            die("cnd_broadcast: waiters did not all arrive in 30 s");
        ms_sleep(1);
    }
    bw_flag = 1;
    EXPECT_T(cnd_broadcast(&c_c), thrd_success);
    mtx_unlock(&c_m);
    for (int i = 0; i < NBW; i++)
        EXPECT_T(thrd_join(w[i], NULL), thrd_success);
    if (bw_woken != NBW || bw_timedout)
        die("cnd_broadcast: %d woken, %d timed out (20 s); expected %d and 0", bw_woken, bw_timedout, NBW);

    mtx_lock(&c_m);
    struct timespec dl = utc_in(50);
    EXPECT_T(cnd_timedwait(&c_c, &c_m, &dl), thrd_timedout);
    check_not_early(&dl, "cnd_timedwait (50 ms)");
    EXPECT_T(mtx_unlock(&c_m), thrd_success);
    cnd_destroy(&c_c);
    mtx_destroy(&c_m);
}

/* ---------------- tss ---------------- */
#define NTSS 50
static tss_t key;
static int slots[NTSS + 1];
static atomic_int dtor_calls[NTSS + 1], dtor_bad;

static void dtor(void *v)
{
    intptr_t i = (int *)v - slots;
    if (i < 0 || i > NTSS) {
        atomic_fetch_add(&dtor_bad, 1);
        return;
    }
    atomic_fetch_add(&dtor_calls[i], 1);
}

static int tss_main(void *arg)
{
    int i = (int)(intptr_t)arg;
    if (tss_get(key) != NULL)
        die("tss thread %d: fresh tss_get expected NULL, got %p", i, tss_get(key));
    if (tss_set(key, &slots[i]) != thrd_success)
        die("tss_set failed");
    thrd_yield();
    ms_sleep(1);
    if (tss_get(key) != &slots[i])
        die("tss thread %d: tss_get after yield/sleep: expected %p, got %p", i, (void *)&slots[i], tss_get(key));
    return 0;
}

static void test_tss(void)
{
    EXPECT_T(tss_create(&key, dtor), thrd_success);
    EXPECT_T(tss_set(key, &slots[NTSS]), thrd_success);     /* main's own */
    thrd_t t[NTSS];
    for (int i = 0; i < NTSS; i++)
        EXPECT_T(thrd_create(&t[i], tss_main, (void *)(intptr_t)i), thrd_success);
    for (int i = 0; i < NTSS; i++)
        EXPECT_T(thrd_join(t[i], NULL), thrd_success);
    if (atomic_load(&dtor_bad))
        die("tss destructor called with a foreign value %d times", atomic_load(&dtor_bad));
    for (int i = 0; i < NTSS; i++)
        if (atomic_load(&dtor_calls[i]) != 1)
            die("tss destructor for thread %d's value: expected 1 call, got %d", i, atomic_load(&dtor_calls[i]));
    if (atomic_load(&dtor_calls[NTSS]) != 0)
        die("tss destructor ran for main's value (%d times) although main is alive", atomic_load(&dtor_calls[NTSS]));
    if (tss_get(key) != &slots[NTSS])
        die("main's tss value changed");
    tss_delete(key);
}

/* ---------------- call_once ---------------- */
#define NONCE 100
static once_flag once = ONCE_FLAG_INIT;
static atomic_int once_calls, once_arrived, once_go, once_bad;
static int once_value;     /* plain: published by call_once */

static void once_fn(void)
{
    atomic_fetch_add(&once_calls, 1);
    ms_sleep(20);
    once_value = 4242;
}

static int once_main(void *arg)
{
    (void)arg;
    atomic_fetch_add(&once_arrived, 1);
    double deadline = now_s() + 30;
    while (!atomic_load(&once_go)) {
        if (now_s() > deadline)
            die("call_once thread: start flag never came");
        thrd_yield();
    }
    call_once(&once, once_fn);
    if (once_value != 4242)
        atomic_fetch_add(&once_bad, 1);
    return 0;
}

static void test_once(void)
{
    static thrd_t t[NONCE];
    for (int i = 0; i < NONCE; i++)
        EXPECT_T(thrd_create(&t[i], once_main, NULL), thrd_success);
    wait_flag(&once_arrived, NONCE, "call_once threads to start");
    atomic_store(&once_go, 1);
    for (int i = 0; i < NONCE; i++)
        EXPECT_T(thrd_join(t[i], NULL), thrd_success);
    if (atomic_load(&once_calls) != 1)
        die("call_once: function ran %d times, expected 1", atomic_load(&once_calls));
    if (atomic_load(&once_bad))
        die("call_once: %d callers returned before the function's effect was visible", atomic_load(&once_bad));
    call_once(&once, once_fn);
    if (atomic_load(&once_calls) != 1)
        die("call_once after completion ran the function again");
}

int main(void)
{
    test_thrd();
    test_mtx();
    test_cnd();
    test_tss();
    test_once();
    printf("sync_c11: OK\n");
    return 0;
}
