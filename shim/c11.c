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
	int e = shim_sleep_until(rt_nanotime() + shim_ts_ns(req), rem);
	return e ? -1 : 0;
}

EXPORT void thrd_yield(void)
{
	shim_check();
	rt_yield();
	if (rt_sig_pending_self())
		rt_sigcheck();
}

/* ---- mtx_*, cnd_*, tss_*: same objects as pthread's (glibc's mtx_t and
 * cnd_t are unions with pthread_mutex_t / pthread_cond_t) -------------- */

EXPORT int mtx_init(mtx_t *m, int type)
{
	pthread_mutexattr_t a;
	pthread_mutexattr_init(&a);
	if (type & mtx_recursive)
		pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
	int e = pthread_mutex_init((pthread_mutex_t *)m, &a);
	return thrd_err(e);
}

EXPORT int mtx_lock(mtx_t *m)
{
	return thrd_err(pthread_mutex_lock((pthread_mutex_t *)m));
}

EXPORT int mtx_trylock(mtx_t *m)
{
	return thrd_err(pthread_mutex_trylock((pthread_mutex_t *)m));
}

EXPORT int mtx_timedlock(mtx_t *restrict m, const struct timespec *restrict ts)
{
	return thrd_err(pthread_mutex_timedlock((pthread_mutex_t *)m, ts));
}

EXPORT int mtx_unlock(mtx_t *m)
{
	return thrd_err(pthread_mutex_unlock((pthread_mutex_t *)m));
}

EXPORT void mtx_destroy(mtx_t *m) { pthread_mutex_destroy((pthread_mutex_t *)m); }

EXPORT int cnd_init(cnd_t *c)
{
	return thrd_err(pthread_cond_init((pthread_cond_t *)c, NULL));
}

EXPORT int cnd_signal(cnd_t *c)
{
	return thrd_err(pthread_cond_signal((pthread_cond_t *)c));
}

EXPORT int cnd_broadcast(cnd_t *c)
{
	return thrd_err(pthread_cond_broadcast((pthread_cond_t *)c));
}

EXPORT int cnd_wait(cnd_t *c, mtx_t *m)
{
	return thrd_err(pthread_cond_wait((pthread_cond_t *)c,
					  (pthread_mutex_t *)m));
}

EXPORT int cnd_timedwait(cnd_t *restrict c, mtx_t *restrict m,
			 const struct timespec *restrict ts)
{
	return thrd_err(pthread_cond_timedwait((pthread_cond_t *)c,
					       (pthread_mutex_t *)m, ts));
}

EXPORT void cnd_destroy(cnd_t *c) { pthread_cond_destroy((pthread_cond_t *)c); }

EXPORT int tss_create(tss_t *k, tss_dtor_t dtor)
{
	return thrd_err(pthread_key_create((pthread_key_t *)k, dtor));
}

EXPORT void *tss_get(tss_t k) { return pthread_getspecific((pthread_key_t)k); }

EXPORT int tss_set(tss_t k, void *v)
{
	return thrd_err(pthread_setspecific((pthread_key_t)k, v));
}

EXPORT void tss_delete(tss_t k) { pthread_key_delete((pthread_key_t)k); }
