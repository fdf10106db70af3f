/*
 * spin.c - pthread_spin_*.  A spinning G yields its P after a burst of
 * failed attempts: with green threads the holder may be a runnable G
 * waiting for this very P (one P, or a holder that parked while holding
 * the lock), and pure spinning would never let it run.  Until async
 * preemption exists that yield is what guarantees progress.
 */
#include <errno.h>

#include "shim.h"

#define SPIN_BURST 128

EXPORT int pthread_spin_init(pthread_spinlock_t *l, int pshared)
{
	*l = 0;
	return 0;
}

EXPORT int pthread_spin_destroy(pthread_spinlock_t *l) { return 0; }

EXPORT int pthread_spin_trylock(pthread_spinlock_t *l)
{
	shim_preempt_point();
	int z = 0;
	return __atomic_compare_exchange_n(l, &z, 1, false, __ATOMIC_ACQUIRE,
					   __ATOMIC_RELAXED)
		   ? 0
		   : EBUSY;
}

EXPORT int pthread_spin_lock(pthread_spinlock_t *l)
{
	for (;;) {
		for (int i = 0; i < SPIN_BURST; i++) {
			if (__atomic_load_n(l, __ATOMIC_RELAXED) == 0 &&
			    pthread_spin_trylock(l) == 0)
				return 0;
			__builtin_ia32_pause();
		}
		shim_check();
		rt_yield();
		/* handlers sent meanwhile run while we spin, as natively */
		if (rt_sig_pending_self()) {
			rt_sigcheck();
			shim_async_cancel_point();
		}
	}
}

EXPORT int pthread_spin_unlock(pthread_spinlock_t *l)
{
	__atomic_store_n(l, 0, __ATOMIC_RELEASE);
	shim_preempt_point();
	return 0;
}
