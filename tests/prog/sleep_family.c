// sleep_family: sleep, usleep, nanosleep, clock_nanosleep, sched_yield keep
// their exact glibc/kernel semantics, and sleeping threads sleep concurrently.
//
// Why: greenrun turns these calls into parking the green thread on a timer
// instead of blocking the OS thread, so it re-implements their argument
// checking, return conventions (nanosleep: -1 + errno; clock_nanosleep: the
// error number, returned) and timing (never wake early, absolute deadlines on
// the right clock).
//
// Checks:
//   - sleep(1) returns 0 and >= 1 s passes; usleep(20000) returns 0 and
//     >= 20 ms passes;
//   - nanosleep: tv_nsec = 1e9, tv_nsec = -1, tv_sec = -1 -> -1/EINVAL;
//     a 30 ms nanosleep returns 0 after >= 30 ms; zero duration returns 0;
//   - clock_nanosleep TIMER_ABSTIME on CLOCK_MONOTONIC and CLOCK_REALTIME
//     (deadline now + 50 ms) returns 0 and clock_gettime afterwards is >= the
//     deadline; an absolute deadline in the past returns 0 at once;
//   - relative clock_nanosleep returns 0 and elapsed >= requested;
//   - clock_nanosleep with an invalid clock id, with CLOCK_THREAD_CPUTIME_ID,
//     with tv_nsec = 1e9 or with a negative tv_sec returns EINVAL (the value,
//     not -1);
//   - 1,000 threads each sleeping 100 ms all finish, each observed elapsed
//     >= 100 ms, and the whole batch takes well under the 100 s it would take
//     if sleeps were serialised (bound: 30 s);
//   - sched_yield returns 0.
// greenrun-test: env=GREENRUN_PROCS=1
// greenrun-test: env=GREENRUN_PROCS=2
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
#include <unistd.h>

#define NSLEEPERS 1000

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "FAIL sleep_family: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static int64_t ns_of(struct timespec ts) { return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec; }

static int64_t now_ns(clockid_t c)
{
    struct timespec ts;
    if (clock_gettime(c, &ts) != 0)
        die("clock_gettime(%d): %s", (int)c, strerror(errno));
    return ns_of(ts);
}

static struct timespec ts_of(int64_t ns)
{
    struct timespec ts = { (time_t)(ns / 1000000000), (long)(ns % 1000000000) };
    return ts;
}

static void expect_nanosleep_einval(time_t sec, long nsec)
{
    struct timespec ts = { sec, nsec };
    errno = 0;
    int r = nanosleep(&ts, NULL);
    int e = errno;
    if (r != -1 || e != EINVAL)
        die("nanosleep({%ld, %ld}): expected -1/EINVAL, got %d/errno %d (%s)", (long)sec, nsec, r, e,
            strerror(e));
}

static void expect_clock_nanosleep_einval(clockid_t c, int flags, time_t sec, long nsec, const char *what)
{
    struct timespec ts = { sec, nsec };
    int r = clock_nanosleep(c, flags, &ts, NULL);
    if (r != EINVAL)
        die("clock_nanosleep(%s): expected return value EINVAL (%d), got %d", what, EINVAL, r);
}

static void test_abs(clockid_t c, const char *name)
{
    int64_t deadline = now_ns(c) + 50000000;
    struct timespec ts = ts_of(deadline);
    int r = clock_nanosleep(c, TIMER_ABSTIME, &ts, NULL);
    if (r != 0)
        die("clock_nanosleep(%s, TIMER_ABSTIME, now+50ms): expected 0, got %d", name, r);
    int64_t after = now_ns(c);
    if (after < deadline)
        die("clock_nanosleep(%s, TIMER_ABSTIME): woke %lld ns before the deadline", name,
            (long long)(deadline - after));

    /* A deadline in the past returns 0 without sleeping (bounded generously). */
    int64_t t0 = now_ns(CLOCK_MONOTONIC);
    ts = ts_of(now_ns(c) - 1000000000);
    r = clock_nanosleep(c, TIMER_ABSTIME, &ts, NULL);
    if (r != 0)
        die("clock_nanosleep(%s, TIMER_ABSTIME, past): expected 0, got %d", name, r);
    if (now_ns(CLOCK_MONOTONIC) - t0 > 500000000)
        die("clock_nanosleep(%s, TIMER_ABSTIME, past) slept > 500 ms", name);
}

static atomic_int too_early;

static void *sleeper(void *arg)
{
    int64_t t0 = now_ns(CLOCK_MONOTONIC);
    struct timespec ts = { 0, 100000000 };
    if (nanosleep(&ts, NULL) != 0)
        die("sleeper %ld: nanosleep(100 ms) returned -1 (%s)", (long)(intptr_t)arg, strerror(errno));
    int64_t el = now_ns(CLOCK_MONOTONIC) - t0;
    if (el < 100000000) {
        fprintf(stderr, "FAIL sleep_family: sleeper %ld: elapsed %lld ns < 100 ms\n", (long)(intptr_t)arg,
                (long long)el);
        atomic_fetch_add(&too_early, 1);
    }
    return arg;
}

int main(void)
{
    /* sleep / usleep */
    int64_t t0 = now_ns(CLOCK_MONOTONIC);
    unsigned left = sleep(1);
    int64_t el = now_ns(CLOCK_MONOTONIC) - t0;
    if (left != 0)
        die("sleep(1): expected 0, got %u", left);
    if (el < 1000000000)
        die("sleep(1): elapsed %lld ns < 1 s", (long long)el);

    t0 = now_ns(CLOCK_MONOTONIC);
    int r = usleep(20000);
    el = now_ns(CLOCK_MONOTONIC) - t0;
    if (r != 0)
        die("usleep(20000): expected 0, got %d (%s)", r, strerror(errno));
    if (el < 20000000)
        die("usleep(20000): elapsed %lld ns < 20 ms", (long long)el);

    /* nanosleep */
    expect_nanosleep_einval(0, 1000000000);
    expect_nanosleep_einval(0, -1);
    expect_nanosleep_einval(-1, 0);
    struct timespec ts = { 0, 30000000 }, rem = { 99, 99 };
    t0 = now_ns(CLOCK_MONOTONIC);
    r = nanosleep(&ts, &rem);
    el = now_ns(CLOCK_MONOTONIC) - t0;
    if (r != 0)
        die("nanosleep(30 ms): expected 0, got %d (%s)", r, strerror(errno));
    if (el < 30000000)
        die("nanosleep(30 ms): elapsed %lld ns < 30 ms", (long long)el);
    ts.tv_sec = 0;
    ts.tv_nsec = 0;
    if ((r = nanosleep(&ts, NULL)) != 0)
        die("nanosleep(0): expected 0, got %d (%s)", r, strerror(errno));

    /* clock_nanosleep */
    test_abs(CLOCK_MONOTONIC, "CLOCK_MONOTONIC");
    test_abs(CLOCK_REALTIME, "CLOCK_REALTIME");
    ts.tv_sec = 0;
    ts.tv_nsec = 30000000;
    t0 = now_ns(CLOCK_MONOTONIC);
    r = clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL);
    el = now_ns(CLOCK_MONOTONIC) - t0;
    if (r != 0)
        die("clock_nanosleep(CLOCK_MONOTONIC, relative 30 ms): expected 0, got %d", r);
    if (el < 30000000)
        die("clock_nanosleep(CLOCK_MONOTONIC, relative 30 ms): elapsed %lld ns < 30 ms", (long long)el);
    t0 = now_ns(CLOCK_MONOTONIC);
    r = clock_nanosleep(CLOCK_REALTIME, 0, &ts, NULL);
    el = now_ns(CLOCK_MONOTONIC) - t0;
    if (r != 0)
        die("clock_nanosleep(CLOCK_REALTIME, relative 30 ms): expected 0, got %d", r);
    if (el < 30000000)
        die("clock_nanosleep(CLOCK_REALTIME, relative 30 ms): elapsed %lld ns < 30 ms", (long long)el);

    expect_clock_nanosleep_einval((clockid_t)12345, 0, 0, 1000000, "invalid clock 12345");
    expect_clock_nanosleep_einval(CLOCK_THREAD_CPUTIME_ID, 0, 0, 1000000, "CLOCK_THREAD_CPUTIME_ID");
    expect_clock_nanosleep_einval(CLOCK_MONOTONIC, 0, 0, 1000000000, "CLOCK_MONOTONIC, tv_nsec = 1e9");
    expect_clock_nanosleep_einval(CLOCK_MONOTONIC, 0, -1, 0, "CLOCK_MONOTONIC, tv_sec = -1");
    expect_clock_nanosleep_einval(CLOCK_MONOTONIC, TIMER_ABSTIME, 0, -5, "CLOCK_MONOTONIC, ABSTIME, tv_nsec = -5");

    /* sched_yield */
    for (int i = 0; i < 100; i++)
        if ((r = sched_yield()) != 0)
            die("sched_yield: expected 0, got %d", r);

    /* many concurrent sleepers */
    static pthread_t t[NSLEEPERS];
    t0 = now_ns(CLOCK_MONOTONIC);
    for (int i = 0; i < NSLEEPERS; i++) {
        int rc = pthread_create(&t[i], NULL, sleeper, (void *)(intptr_t)i);
        if (rc != 0)
            die("pthread_create #%d: %s", i, strerror(rc));
    }
    for (int i = 0; i < NSLEEPERS; i++) {
        void *ret = NULL;
        int rc = pthread_join(t[i], &ret);
        if (rc != 0 || ret != (void *)(intptr_t)i)
            die("pthread_join #%d: expected rc 0 value %d, got rc %d value %ld", i, i, rc, (long)(intptr_t)ret);
    }
    el = now_ns(CLOCK_MONOTONIC) - t0;
    if (atomic_load(&too_early))
        die("%d of %d sleepers woke before 100 ms", atomic_load(&too_early), NSLEEPERS);
    if (el > 30000000000LL)
        die("%d threads sleeping 100 ms each took %.1f s: sleeps are not concurrent", NSLEEPERS, el / 1e9);

    printf("sleep_family: OK (%d x 100 ms sleepers in %.3f s)\n", NSLEEPERS, el / 1e9);
    return 0;
}
