/*
 * sleep.c - sleep, usleep, nanosleep, clock_nanosleep, sched_yield: the
 * calling G parks on its P's timer heap instead of blocking its M.
 *
 * Deadlines are CLOCK_MONOTONIC.  An absolute CLOCK_REALTIME/TAI/BOOTTIME
 * time is converted once, at the call (a later settimeofday does not move
 * the wake-up, unlike the kernel's realtime timers; README).  Clocks we
 * do not model (CPU-time clocks of a process) go to the real call, which
 * blocks the M.  EINVAL rules are the kernel's: tv_nsec outside
 * [0, 999999999] or tv_sec < 0; CLOCK_THREAD_CPUTIME_ID is refused.
 * Signals interrupting a sleep (EINTR, *rem) belong to the signals issue.
 */
#include <errno.h>
#include <sched.h>
#include <unistd.h>

#include "shim.h"

bool shim_ts_valid(const struct timespec *ts)
{
	return ts->tv_nsec >= 0 && ts->tv_nsec < 1000000000 && ts->tv_sec >= 0;
}

int64_t shim_ts_ns(const struct timespec *ts)
{
	if (ts->tv_sec > INT64_MAX / 1000000000 - 1)
		return INT64_MAX / 2;
	return (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec;
}

static int64_t clock_ns(clockid_t clk)
{
	struct timespec now;
	if (clock_gettime(clk, &now) != 0)
		return -1;
	return (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
}

int64_t shim_abs_to_mono(clockid_t clk, const struct timespec *abs)
{
	int64_t mono = rt_nanotime();
	if (clk == CLOCK_MONOTONIC)
		return shim_ts_ns(abs);
	if (clk != CLOCK_REALTIME && clk != CLOCK_TAI && clk != CLOCK_BOOTTIME)
		return -1;
	int64_t now = clock_ns(clk);
	int64_t d = shim_ts_ns(abs) - now;
	return d <= 0 ? mono : mono + d;
}

/* Sleep until dl (monotonic ns), a cancellation point: 0, or EINTR when
 * a handler ran (never restarted, as nanosleep(2)); then *rem (if given)
 * gets the time left. */
int shim_sleep_until(int64_t dl, struct timespec *rem)
{
	for (;;) {
		shim_testcancel();
		if (SHIM_INTR(rt_sleep_until(dl)) == 0)
			return 0;
		if (shim_intr_restart(false))
			continue;
		if (rem) {
			int64_t left = dl - rt_nanotime();
			if (left < 0)
				left = 0;
			rem->tv_sec = left / 1000000000;
			rem->tv_nsec = left % 1000000000;
		}
		return EINTR;
	}
}

static bool modelled(clockid_t clk)
{
	return clk == CLOCK_REALTIME || clk == CLOCK_MONOTONIC ||
	       clk == CLOCK_BOOTTIME || clk == CLOCK_TAI;
}

EXPORT int clock_nanosleep(clockid_t clk, int flags, const struct timespec *req,
			   struct timespec *rem)
{
	shim_check();
	if (clk == CLOCK_THREAD_CPUTIME_ID)
		return EINVAL;
	if (!modelled(clk) || shim_on_g0())
		return real.clock_nanosleep(clk, flags, req, rem);
	if (!shim_ts_valid(req))
		return EINVAL;
	int64_t dl;
	if (flags & TIMER_ABSTIME)
		dl = shim_abs_to_mono(clk, req);
	else
		dl = rt_nanotime() + shim_ts_ns(req);
	return shim_sleep_until(dl, (flags & TIMER_ABSTIME) ? NULL : rem);
}

EXPORT int nanosleep(const struct timespec *req, struct timespec *rem)
{
	shim_check();
	if (!req) {
		errno = EFAULT;
		return -1;
	}
	if (!shim_ts_valid(req)) {
		errno = EINVAL;
		return -1;
	}
	if (shim_on_g0()) {
		int e = real.clock_nanosleep(CLOCK_REALTIME, 0, req, rem);
		if (e) {
			errno = e;
			return -1;
		}
		return 0;
	}
	int e = shim_sleep_until(rt_nanotime() + shim_ts_ns(req), rem);
	if (e) {
		errno = e;
		return -1;
	}
	return 0;
}

EXPORT int __nanosleep(const struct timespec *req, struct timespec *rem)
{
	return nanosleep(req, rem);
}

EXPORT unsigned int sleep(unsigned int s)
{
	struct timespec ts = {.tv_sec = s, .tv_nsec = 0}, rem = {0, 0};
	int saved = errno;
	if (nanosleep(&ts, &rem) == 0)
		return 0;
	errno = saved;
	/* interrupted: the whole unslept seconds, truncated, as glibc's
	 * posix/sleep.c (sleep(1) interrupted after 200 ms gives 0) */
	return (unsigned)rem.tv_sec;
}

EXPORT int usleep(useconds_t us)
{
	struct timespec ts = {.tv_sec = us / 1000000,
			      .tv_nsec = (long)(us % 1000000) * 1000};
	return nanosleep(&ts, NULL);
}

EXPORT int sched_yield(void)
{
	shim_check();
	if (shim_on_g0())
		return 0;
	rt_yield();
	/* a thread that only yields is mostly inside greenrun, where the
	 * kick cannot deliver: take its signals here */
	if (rt_sig_pending_self())
		rt_sigcheck();
	return 0;
}

/* pthread_yield is declared as a redirect to sched_yield by glibc 2.34+
 * headers; old binaries still import the name itself. */
EXPORT int shim_pthread_yield(void) __asm__("pthread_yield");
int shim_pthread_yield(void) { return sched_yield(); }
