// attr: pthread_attr_* round trips and the stack a thread actually runs on.
//
// Why: programs size and place thread stacks through attributes and read
// them back with pthread_getattr_np (garbage collectors, stack-scanning
// runtimes, guard checks do).  Under greenrun a thread runs on a pooled stack
// slot (or on the caller's memory for pthread_attr_setstack), so
// pthread_getattr_np must describe the stack the thread is really on.
//
// Checks:
//   - defaults of a fresh attr: JOINABLE, SCOPE_SYSTEM, INHERIT_SCHED, SCHED_OTHER,
//     no sigmask (PTHREAD_ATTR_NO_SIGMASK_NP);
//   - round trips: detachstate, stacksize, stack (setstack/getstack),
//     guardsize, scope, inheritsched, schedpolicy, schedparam, affinity_np,
//     sigmask_np; EINVAL for bad detachstate/inheritsched/policy/scope,
//     stacksize below PTHREAD_STACK_MIN, schedparam priority outside the
//     policy's range; ENOTSUP for PTHREAD_SCOPE_PROCESS;
//   - a thread created with stacksize 1 MiB: pthread_getattr_np reports a
//     stacksize >= 1 MiB, a range [addr, addr+size) containing a local
//     variable, and JOINABLE;
//   - a thread created with pthread_attr_setstack on a 1 MiB buffer we
//     allocated (aligned 64): the reported range lies inside our buffer and
//     contains a local variable (the thread really runs on our memory);
//   - a thread created with a sigmask attribute (SIGUSR1 blocked) starts with
//     SIGUSR1 blocked and SIGUSR2 not;
//   - a detached thread's pthread_getattr_np says DETACHED;
//   - setname_np/getname_np round trip (on self and on another thread),
//     ERANGE for a 16+ char name and for a getname buffer < 16 bytes;
//   - pthread_getattr_np on the main thread: range contains a local of main.
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
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

#define MiB (1024 * 1024)
/* glibc's real lower bound; with _GNU_SOURCE PTHREAD_STACK_MIN is a sysconf
 * call that may be larger on some CPUs, so values below it are not
 * guaranteed to be rejected, but values below 16384 are. */
#define STATIC_STACK_MIN 16384

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "FAIL attr: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

#define EXPECT_RC(call, want) do {                                            \
        int rc_ = (call);                                                     \
        if (rc_ != (want))                                                    \
            die("line %d: %s: expected %s (%d), got %d (%s)", __LINE__, #call, \
                #want, (want), rc_, strerror(rc_));                           \
    } while (0)

#define EXPECT_EQ(got, want, what) do {                                       \
        long long g_ = (long long)(got), w_ = (long long)(want);              \
        if (g_ != w_)                                                         \
            die("line %d: %s: expected %lld, got %lld", __LINE__, (what), w_, g_); \
    } while (0)

static void test_roundtrips(void)
{
    pthread_attr_t a;
    int v;
    size_t sz;
    void *addr;

    EXPECT_RC(pthread_attr_init(&a), 0);

    /* defaults */
    EXPECT_RC(pthread_attr_getdetachstate(&a, &v), 0);
    EXPECT_EQ(v, PTHREAD_CREATE_JOINABLE, "default detachstate");
    EXPECT_RC(pthread_attr_getscope(&a, &v), 0);
    EXPECT_EQ(v, PTHREAD_SCOPE_SYSTEM, "default scope");
    EXPECT_RC(pthread_attr_getinheritsched(&a, &v), 0);
    EXPECT_EQ(v, PTHREAD_INHERIT_SCHED, "default inheritsched");
    EXPECT_RC(pthread_attr_getschedpolicy(&a, &v), 0);
    EXPECT_EQ(v, SCHED_OTHER, "default schedpolicy");
    sigset_t ss;
    EXPECT_RC(pthread_attr_getsigmask_np(&a, &ss), PTHREAD_ATTR_NO_SIGMASK_NP);

    /* detachstate */
    EXPECT_RC(pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED), 0);
    EXPECT_RC(pthread_attr_getdetachstate(&a, &v), 0);
    EXPECT_EQ(v, PTHREAD_CREATE_DETACHED, "detachstate after set DETACHED");
    EXPECT_RC(pthread_attr_setdetachstate(&a, PTHREAD_CREATE_JOINABLE), 0);
    EXPECT_RC(pthread_attr_getdetachstate(&a, &v), 0);
    EXPECT_EQ(v, PTHREAD_CREATE_JOINABLE, "detachstate after set JOINABLE");
    EXPECT_RC(pthread_attr_setdetachstate(&a, 42), EINVAL);
    EXPECT_RC(pthread_attr_getdetachstate(&a, &v), 0);
    EXPECT_EQ(v, PTHREAD_CREATE_JOINABLE, "detachstate unchanged after EINVAL");

    /* stacksize */
    EXPECT_RC(pthread_attr_setstacksize(&a, MiB), 0);
    EXPECT_RC(pthread_attr_getstacksize(&a, &sz), 0);
    EXPECT_EQ(sz, MiB, "stacksize after set 1 MiB");
    EXPECT_RC(pthread_attr_setstacksize(&a, 3 * MiB + 4096), 0);
    EXPECT_RC(pthread_attr_getstacksize(&a, &sz), 0);
    EXPECT_EQ(sz, 3 * MiB + 4096, "stacksize after set 3 MiB + 4 KiB");
    EXPECT_RC(pthread_attr_setstacksize(&a, PTHREAD_STACK_MIN), 0);
    EXPECT_RC(pthread_attr_getstacksize(&a, &sz), 0);
    EXPECT_EQ(sz, PTHREAD_STACK_MIN, "stacksize after set PTHREAD_STACK_MIN");
    EXPECT_RC(pthread_attr_setstacksize(&a, STATIC_STACK_MIN - 1), EINVAL);
    EXPECT_RC(pthread_attr_setstacksize(&a, 4096), EINVAL);
    EXPECT_RC(pthread_attr_setstacksize(&a, 0), EINVAL);
    EXPECT_RC(pthread_attr_getstacksize(&a, &sz), 0);
    EXPECT_EQ(sz, PTHREAD_STACK_MIN, "stacksize unchanged after EINVAL");

    /* stack */
    static char stackmem[256 * 1024] __attribute__((aligned(64)));
    EXPECT_RC(pthread_attr_setstack(&a, stackmem, sizeof stackmem), 0);
    EXPECT_RC(pthread_attr_getstack(&a, &addr, &sz), 0);
    if (addr != stackmem || sz != sizeof stackmem)
        die("getstack after setstack(%p, %zu): got (%p, %zu)", (void *)stackmem, sizeof stackmem, addr, sz);
    EXPECT_RC(pthread_attr_getstacksize(&a, &sz), 0);
    EXPECT_EQ(sz, sizeof stackmem, "stacksize after setstack");
    EXPECT_RC(pthread_attr_setstack(&a, stackmem, 4096), EINVAL);
    pthread_attr_destroy(&a);
    EXPECT_RC(pthread_attr_init(&a), 0);

    /* guardsize */
    EXPECT_RC(pthread_attr_setguardsize(&a, 8192), 0);
    EXPECT_RC(pthread_attr_getguardsize(&a, &sz), 0);
    EXPECT_EQ(sz, 8192, "guardsize after set 8192");
    EXPECT_RC(pthread_attr_setguardsize(&a, 0), 0);
    EXPECT_RC(pthread_attr_getguardsize(&a, &sz), 0);
    EXPECT_EQ(sz, 0, "guardsize after set 0");

    /* scope */
    EXPECT_RC(pthread_attr_setscope(&a, PTHREAD_SCOPE_SYSTEM), 0);
    EXPECT_RC(pthread_attr_getscope(&a, &v), 0);
    EXPECT_EQ(v, PTHREAD_SCOPE_SYSTEM, "scope after set SYSTEM");
    EXPECT_RC(pthread_attr_setscope(&a, PTHREAD_SCOPE_PROCESS), ENOTSUP);
    EXPECT_RC(pthread_attr_setscope(&a, 42), EINVAL);
    EXPECT_RC(pthread_attr_getscope(&a, &v), 0);
    EXPECT_EQ(v, PTHREAD_SCOPE_SYSTEM, "scope unchanged after errors");

    /* inheritsched */
    EXPECT_RC(pthread_attr_setinheritsched(&a, PTHREAD_EXPLICIT_SCHED), 0);
    EXPECT_RC(pthread_attr_getinheritsched(&a, &v), 0);
    EXPECT_EQ(v, PTHREAD_EXPLICIT_SCHED, "inheritsched after set EXPLICIT");
    EXPECT_RC(pthread_attr_setinheritsched(&a, PTHREAD_INHERIT_SCHED), 0);
    EXPECT_RC(pthread_attr_getinheritsched(&a, &v), 0);
    EXPECT_EQ(v, PTHREAD_INHERIT_SCHED, "inheritsched after set INHERIT");
    EXPECT_RC(pthread_attr_setinheritsched(&a, 42), EINVAL);

    /* schedpolicy + schedparam */
    struct sched_param sp;
    int pols[] = { SCHED_FIFO, SCHED_RR, SCHED_OTHER };
    for (unsigned i = 0; i < sizeof pols / sizeof pols[0]; i++) {
        EXPECT_RC(pthread_attr_setschedpolicy(&a, pols[i]), 0);
        EXPECT_RC(pthread_attr_getschedpolicy(&a, &v), 0);
        EXPECT_EQ(v, pols[i], "schedpolicy round trip");
    }
    EXPECT_RC(pthread_attr_setschedpolicy(&a, 12345), EINVAL);
    EXPECT_RC(pthread_attr_getschedpolicy(&a, &v), 0);
    EXPECT_EQ(v, SCHED_OTHER, "schedpolicy unchanged after EINVAL");
    sp.sched_priority = 0;
    EXPECT_RC(pthread_attr_setschedparam(&a, &sp), 0);
    sp.sched_priority = -1;
    EXPECT_RC(pthread_attr_getschedparam(&a, &sp), 0);
    EXPECT_EQ(sp.sched_priority, 0, "schedparam priority (SCHED_OTHER)");
    sp.sched_priority = 10;
    EXPECT_RC(pthread_attr_setschedparam(&a, &sp), EINVAL);   /* out of SCHED_OTHER's range */
    EXPECT_RC(pthread_attr_setschedpolicy(&a, SCHED_FIFO), 0);
    sp.sched_priority = 10;
    EXPECT_RC(pthread_attr_setschedparam(&a, &sp), 0);
    sp.sched_priority = -1;
    EXPECT_RC(pthread_attr_getschedparam(&a, &sp), 0);
    EXPECT_EQ(sp.sched_priority, 10, "schedparam priority (SCHED_FIFO)");
    sp.sched_priority = sched_get_priority_max(SCHED_FIFO) + 1;
    EXPECT_RC(pthread_attr_setschedparam(&a, &sp), EINVAL);

    /* affinity */
    cpu_set_t cs, got;
    CPU_ZERO(&cs);
    CPU_SET(0, &cs);
    CPU_SET(3, &cs);
    EXPECT_RC(pthread_attr_setaffinity_np(&a, sizeof cs, &cs), 0);
    CPU_ZERO(&got);
    EXPECT_RC(pthread_attr_getaffinity_np(&a, sizeof got, &got), 0);
    if (!CPU_EQUAL(&cs, &got))
        die("affinity round trip: expected {0,3}, got a set of %d CPUs (cpu0=%d cpu3=%d)",
            CPU_COUNT(&got), CPU_ISSET(0, &got), CPU_ISSET(3, &got));

    /* sigmask */
    sigset_t set, gset;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGTERM);
    EXPECT_RC(pthread_attr_setsigmask_np(&a, &set), 0);
    sigemptyset(&gset);
    EXPECT_RC(pthread_attr_getsigmask_np(&a, &gset), 0);
    for (int sig = 1; sig < 32; sig++)
        if (sigismember(&set, sig) != sigismember(&gset, sig))
            die("sigmask round trip: signal %d expected member=%d, got %d", sig,
                sigismember(&set, sig), sigismember(&gset, sig));
    EXPECT_RC(pthread_attr_setsigmask_np(&a, NULL), 0);
    EXPECT_RC(pthread_attr_getsigmask_np(&a, &gset), PTHREAD_ATTR_NO_SIGMASK_NP);

    pthread_attr_destroy(&a);
}

/* What a thread finds out about its own stack. */
struct stackinfo {
    int rc;
    void *addr;
    size_t size;
    int detach;
    uintptr_t local;
    int usr1_blocked, usr2_blocked;
};

__attribute__((noinline)) static void probe(struct stackinfo *si)
{
    volatile char local = 1;
    si->local = (uintptr_t)&local;
    pthread_attr_t a;
    si->rc = pthread_getattr_np(pthread_self(), &a);
    if (si->rc == 0) {
        pthread_attr_getstack(&a, &si->addr, &si->size);
        pthread_attr_getdetachstate(&a, &si->detach);
        pthread_attr_destroy(&a);
    }
    sigset_t cur;
    pthread_sigmask(SIG_BLOCK, NULL, &cur);
    si->usr1_blocked = sigismember(&cur, SIGUSR1);
    si->usr2_blocked = sigismember(&cur, SIGUSR2);
}

static void *probe_thread(void *arg)
{
    struct timespec ts = { 0, 1000000 };
    nanosleep(&ts, NULL);           /* may migrate; the stack must not change */
    probe(arg);
    return arg;
}

static void check_contains(const char *what, const struct stackinfo *si)
{
    if (si->rc != 0)
        die("%s: pthread_getattr_np: expected 0, got %d", what, si->rc);
    uintptr_t lo = (uintptr_t)si->addr, hi = lo + si->size;
    if (!(lo <= si->local && si->local < hi))
        die("%s: stack range [%#lx, %#lx) (size %zu) does not contain a local variable at %#lx",
            what, (unsigned long)lo, (unsigned long)hi, si->size, (unsigned long)si->local);
}

static struct stackinfo detached_si;
static void *detached_main(void *arg)
{
    probe(&detached_si);
    atomic_store((atomic_int *)arg, 1);
    return NULL;
}

static void test_stacks(void)
{
    pthread_attr_t a;
    pthread_t t;
    void *ret;
    struct stackinfo si;

    /* stacksize 1 MiB */
    memset(&si, 0, sizeof si);
    EXPECT_RC(pthread_attr_init(&a), 0);
    EXPECT_RC(pthread_attr_setstacksize(&a, MiB), 0);
    EXPECT_RC(pthread_create(&t, &a, probe_thread, &si), 0);
    pthread_attr_destroy(&a);
    EXPECT_RC(pthread_join(t, &ret), 0);
    check_contains("thread with stacksize 1 MiB", &si);
    if (si.size < MiB)
        die("thread with stacksize 1 MiB: getattr_np stacksize expected >= %d, got %zu", MiB, si.size);
    EXPECT_EQ(si.detach, PTHREAD_CREATE_JOINABLE, "getattr_np detachstate of a joinable thread");

    /* setstack on our own memory */
    size_t bufsz = MiB;
    char *buf = aligned_alloc(64, bufsz);
    if (!buf)
        die("aligned_alloc(64, 1 MiB) failed");
    memset(buf, 0, bufsz);
    memset(&si, 0, sizeof si);
    EXPECT_RC(pthread_attr_init(&a), 0);
    EXPECT_RC(pthread_attr_setstack(&a, buf, bufsz), 0);
    EXPECT_RC(pthread_create(&t, &a, probe_thread, &si), 0);
    pthread_attr_destroy(&a);
    EXPECT_RC(pthread_join(t, &ret), 0);
    check_contains("thread with pthread_attr_setstack", &si);
    uintptr_t lo = (uintptr_t)si.addr, hi = lo + si.size;
    if (lo < (uintptr_t)buf || hi > (uintptr_t)buf + bufsz)
        die("thread with pthread_attr_setstack(%p, %zu): getattr_np range [%#lx, %#lx) is not inside the buffer",
            (void *)buf, bufsz, (unsigned long)lo, (unsigned long)hi);
    if (si.local < (uintptr_t)buf || si.local >= (uintptr_t)buf + bufsz)
        die("thread with pthread_attr_setstack: local variable at %#lx is not in the supplied buffer [%p, %p)",
            (unsigned long)si.local, (void *)buf, (void *)(buf + bufsz));
    free(buf);

    /* sigmask attribute */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    memset(&si, 0, sizeof si);
    EXPECT_RC(pthread_attr_init(&a), 0);
    EXPECT_RC(pthread_attr_setsigmask_np(&a, &set), 0);
    EXPECT_RC(pthread_create(&t, &a, probe_thread, &si), 0);
    pthread_attr_destroy(&a);
    EXPECT_RC(pthread_join(t, &ret), 0);
    EXPECT_EQ(si.usr1_blocked, 1, "SIGUSR1 blocked in a thread created with sigmask {SIGUSR1}");
    EXPECT_EQ(si.usr2_blocked, 0, "SIGUSR2 blocked in a thread created with sigmask {SIGUSR1}");

    /* detached thread */
    static struct stackinfo dsi;
    static atomic_int ddone;
    EXPECT_RC(pthread_attr_init(&a), 0);
    EXPECT_RC(pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED), 0);
    EXPECT_RC(pthread_create(&t, &a, detached_main, &ddone), 0);
    pthread_attr_destroy(&a);
    for (int i = 0; !atomic_load(&ddone); i++) {
        if (i > 30000)
            die("detached probe thread did not finish within 30 s");
        struct timespec ts = { 0, 1000000 };
        nanosleep(&ts, NULL);
    }
    dsi = detached_si;
    check_contains("detached thread", &dsi);
    EXPECT_EQ(dsi.detach, PTHREAD_CREATE_DETACHED, "getattr_np detachstate of a detached thread");

    /* main thread */
    memset(&si, 0, sizeof si);
    probe(&si);
    check_contains("main thread", &si);
}

static atomic_int named_ready, named_release;
static void *named_thread(void *arg)
{
    (void)arg;
    atomic_store(&named_ready, 1);
    while (!atomic_load(&named_release)) {
        struct timespec ts = { 0, 1000000 };
        nanosleep(&ts, NULL);
    }
    char buf[32];
    int rc = pthread_getname_np(pthread_self(), buf, sizeof buf);
    if (rc != 0 || strcmp(buf, "worker-7") != 0)
        die("named thread: getname_np on self: expected rc 0 \"worker-7\", got rc %d \"%s\"", rc,
            rc == 0 ? buf : "");
    rc = pthread_setname_np(pthread_self(), "self-named");
    if (rc != 0)
        die("named thread: setname_np on self: expected 0, got %d", rc);
    rc = pthread_getname_np(pthread_self(), buf, sizeof buf);
    if (rc != 0 || strcmp(buf, "self-named") != 0)
        die("named thread: getname_np after setname_np on self: expected rc 0 \"self-named\", got rc %d \"%s\"",
            rc, rc == 0 ? buf : "");
    return NULL;
}

static void test_names(void)
{
    char buf[32];
    pthread_t t;
    EXPECT_RC(pthread_create(&t, NULL, named_thread, NULL), 0);
    for (int i = 0; !atomic_load(&named_ready); i++) {
        if (i > 30000)
            die("named thread did not start within 30 s");
        struct timespec ts = { 0, 1000000 };
        nanosleep(&ts, NULL);
    }
    EXPECT_RC(pthread_setname_np(t, "worker-7"), 0);
    memset(buf, 'x', sizeof buf);
    EXPECT_RC(pthread_getname_np(t, buf, sizeof buf), 0);
    if (strcmp(buf, "worker-7") != 0)
        die("getname_np of another thread: expected \"worker-7\", got \"%.31s\"", buf);
    EXPECT_RC(pthread_setname_np(t, "0123456789abcdef"), ERANGE);     /* 16 chars */
    EXPECT_RC(pthread_setname_np(t, "a-much-too-long-thread-name"), ERANGE);
    EXPECT_RC(pthread_getname_np(t, buf, 15), ERANGE);
    EXPECT_RC(pthread_getname_np(t, buf, sizeof buf), 0);
    if (strcmp(buf, "worker-7") != 0)
        die("name after rejected setname_np: expected \"worker-7\", got \"%.31s\"", buf);
    atomic_store(&named_release, 1);
    EXPECT_RC(pthread_join(t, NULL), 0);

    EXPECT_RC(pthread_setname_np(pthread_self(), "main-15-chars-x"), 0); /* exactly 15 */
    EXPECT_RC(pthread_getname_np(pthread_self(), buf, 16), 0);
    if (strcmp(buf, "main-15-chars-x") != 0)
        die("getname_np on main: expected \"main-15-chars-x\", got \"%.31s\"", buf);
}

int main(void)
{
    test_roundtrips();
    test_stacks();
    test_names();
    printf("attr: OK\n");
    return 0;
}
