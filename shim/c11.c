/*
 * c11.c - C11 <threads.h> thread management.  glibc implements thrd_*
 * by calling its internal __pthread_* without the PLT, so interposing
 * pthread_* does not catch them: each needs its own entry.  Return codes
 * follow glibc's mapping (thrd_success, thrd_nomem for EAGAIN/ENOMEM,
 * thrd_busy, thrd_timedout, thrd_error otherwise).
 */
#include <errno.h>
#include <threads.h>

#include "shim.h"

int shim_create(pthread_t *th, const pthread_attr_t *attr,
		void *(*start)(void *), void *arg, bool c11);

static int thrd_err(int e)
{
	switch (e) {
	case 0:
		return thrd_success;
	case ENOMEM:
	case EAGAIN:
		return thrd_nomem;
	case EBUSY:
		return thrd_busy;
	case ETIMEDOUT:
		return thrd_timedout;
	default:
		return thrd_error;
	}
}

EXPORT int thrd_create(thrd_t *thr, thrd_start_t func, void *arg)
{
	return thrd_err(shim_create((pthread_t *)thr, NULL,
				    (void *(*)(void *))(void *)func, arg, true));
}

EXPORT int thrd_join(thrd_t thr, int *res)
{
	void *v;
	int e = pthread_join((pthread_t)thr, &v);
	if (e == 0 && res)
		*res = (int)(intptr_t)v;
	return thrd_err(e);
}

EXPORT int thrd_detach(thrd_t thr)
{
	return thrd_err(pthread_detach((pthread_t)thr));
}

EXPORT _Noreturn void thrd_exit(int res)
{
	pthread_exit((void *)(intptr_t)res);
}

EXPORT int thrd_sleep(const struct timespec *req, struct timespec *rem)
{
	shim_check();
	if (!shim_ts_valid(req))
		return -2;
	rt_sleep_until(rt_nanotime() + shim_ts_ns(req));
	return 0;
}

EXPORT void thrd_yield(void)
{
	shim_check();
	rt_yield();
}
