/*
 * sync_util.h - helpers shared by the sync_* program tests: failure
 * reporting (die, EXPECT_RC) and time (sleep, monotonic seconds, absolute
 * deadlines, checks that a timed wait did not return early).  Define
 * TEST_NAME before including.  Plain C; knows nothing of greenrun.
 */
#ifndef SYNC_UTIL_H
#define SYNC_UTIL_H

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SU_UNUSED __attribute__((unused))

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "FAIL " TEST_NAME ": ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

#define EXPECT_RC(call, want) do {                                            \
        int rc_ = (call);                                                     \
        if (rc_ != (want))                                                    \
            die("line %d: %s: expected %s (%d), got %d (%s)", __LINE__, #call,\
                #want, (want), rc_, strerror(rc_));                           \
    } while (0)

SU_UNUSED static void ms_sleep(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

SU_UNUSED static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

SU_UNUSED static void wait_flag(atomic_int *f, int want, const char *what)
{
    double deadline = now_s() + 30;
    while (atomic_load(f) < want) {
        if (now_s() > deadline)
            die("timed out (30 s) waiting for %s (%d of %d)", what, atomic_load(f), want);
        ms_sleep(1);
    }
}

SU_UNUSED static struct timespec ts_in(clockid_t clk, long ms)
{
    struct timespec t;
    clock_gettime(clk, &t);
    t.tv_sec += ms / 1000;
    t.tv_nsec += (ms % 1000) * 1000000L;
    if (t.tv_nsec >= 1000000000L) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000L;
    }
    return t;
}

SU_UNUSED static int ts_before(const struct timespec *a, const struct timespec *b)
{
    return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

SU_UNUSED static void check_not_early(clockid_t clk, const struct timespec *deadline, const char *what)
{
    struct timespec now;
    clock_gettime(clk, &now);
    if (ts_before(&now, deadline))
        die("%s returned ETIMEDOUT before its deadline (%ld.%09ld < %ld.%09ld)", what,
            (long)now.tv_sec, now.tv_nsec, (long)deadline->tv_sec, deadline->tv_nsec);
}

#endif
