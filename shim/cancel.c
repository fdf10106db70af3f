/*
 * cancel.c - pthread_cancel and its state, type and test calls.
 *
 * A request marks the target (cancelpending) and, unless the target has
 * cancellation disabled, is sent to it as runtime signal RT_SIGCANCEL:
 * that interrupts an interruptible wait (every blocking call we implement
 * that POSIX names a cancellation point parks interruptibly), and for a
 * running G with the asynchronous type kicks it to the asynchronous entry
 * (preempt.S), where shim_async_cancel_point acts.  Acting is
 * pthread_exit(PTHREAD_CANCELED): the forced unwind runs cleanup handlers
 * and C++ destructors, and join returns PTHREAD_CANCELED.
 *
 * Cancellation points check on entry and after an interrupted wait
 * (shim_testcancel, via shim_intr_restart).  pthread_cond_wait reacquires
 * the mutex before acting (POSIX), see cond.c.
 *
 * glibc's own cancellation state in the TCB is not used: its internal
 * cancellation points are all behind calls we interpose.
 */
#include <errno.h>
#include <pthread.h>

#include "shim.h"

static void act(struct shim_thread *st)
{
	st->cancelling = true;
	st->canceltype = PTHREAD_CANCEL_DEFERRED;
	pthread_exit(PTHREAD_CANCELED);
}

static bool due(struct shim_thread *st)
{
	return __atomic_load_n(&st->cancelpending, __ATOMIC_SEQ_CST) &&
	       st->cancelstate == PTHREAD_CANCEL_ENABLE && !st->cancelling;
}

void shim_testcancel(void)
{
	if (shim_no_g())
		return;
	struct shim_thread *st = shim_self();
	if (__builtin_expect(due(st), 0))
		act(st);
}

void shim_async_cancel_point(void)
{
	struct shim_thread *st = shim_self();
	if (st->canceltype == PTHREAD_CANCEL_ASYNCHRONOUS && due(st))
		act(st);
}

EXPORT void pthread_testcancel(void)
{
	shim_check();
	shim_testcancel();
}

EXPORT int pthread_cancel(pthread_t t)
{
	shim_check();
	struct rt_g *g = shim_g(t);
	if (!g)
		return ESRCH;
	struct shim_thread *st = shim_of(g);
	if (__atomic_exchange_n(&st->cancelpending, true, __ATOMIC_SEQ_CST))
		return 0; /* already requested */
	if (g == rt_getg()) {
		if (st->canceltype == PTHREAD_CANCEL_ASYNCHRONOUS && due(st))
			act(st);
		return 0;
	}
	if (st->cancelstate == PTHREAD_CANCEL_ENABLE)
		rt_sig_send(g, RT_SIGCANCEL, NULL);
	return 0;
}

EXPORT int pthread_setcancelstate(int state, int *old)
{
	shim_check();
	if (state != PTHREAD_CANCEL_ENABLE && state != PTHREAD_CANCEL_DISABLE)
		return EINVAL;
	struct shim_thread *st = shim_self();
	if (old)
		*old = st->cancelstate;
	st->cancelstate = (uint8_t)state;
	if (st->canceltype == PTHREAD_CANCEL_ASYNCHRONOUS && due(st))
		act(st);
	return 0;
}

EXPORT int pthread_setcanceltype(int type, int *old)
{
	shim_check();
	if (type != PTHREAD_CANCEL_DEFERRED &&
	    type != PTHREAD_CANCEL_ASYNCHRONOUS)
		return EINVAL;
	struct shim_thread *st = shim_self();
	if (old)
		*old = st->canceltype;
	st->canceltype = (uint8_t)type;
	if (type == PTHREAD_CANCEL_ASYNCHRONOUS && due(st))
		act(st);
	return 0;
}
