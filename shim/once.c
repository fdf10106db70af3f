/*
 * once.c - pthread_once (and C11 call_once, which has the same ABI).
 *
 * State word (the program's pthread_once_t, an int, 0 initially):
 *   0 not run, 1 running, 2 done; |4 = someone waits.
 * The first caller CASes 0->1 and runs the routine; others park on the
 * word in the G wait queue (park.c) until it reads 2.  If the routine
 * ends by pthread_exit (or cancellation, later), a cleanup handler resets
 * the word to 0 and wakes the waiters so one of them runs it, as POSIX
 * requires.  The fast path is one acquire load.
 */
#include <errno.h>

#include "shim.h"

#define ONCE_RUNNING 1u
#define ONCE_DONE 2u
#define ONCE_WAITERS 4u

static void once_reset(void *arg)
{
	uint32_t *w = arg;
	uint32_t old = __atomic_exchange_n(w, 0u, __ATOMIC_SEQ_CST);
	if (old & ONCE_WAITERS)
		rt_futex_wake(w, INT32_MAX);
}

EXPORT int pthread_once(pthread_once_t *once, void (*init)(void))
{
	uint32_t *w = (uint32_t *)once;
	if (__atomic_load_n(w, __ATOMIC_ACQUIRE) == ONCE_DONE)
		return 0;
	shim_check();
	for (;;) {
		uint32_t v = __atomic_load_n(w, __ATOMIC_ACQUIRE);
		if (v == ONCE_DONE)
			return 0;
		if (v == 0) {
			if (!__atomic_compare_exchange_n(w, &v, ONCE_RUNNING,
							 false, __ATOMIC_SEQ_CST,
							 __ATOMIC_SEQ_CST))
				continue;
			pthread_cleanup_push(once_reset, w);
			init();
			pthread_cleanup_pop(0);
			uint32_t old = __atomic_exchange_n(w, ONCE_DONE,
							   __ATOMIC_SEQ_CST);
			if (old & ONCE_WAITERS)
				rt_futex_wake(w, INT32_MAX);
			return 0;
		}
		if (!(v & ONCE_WAITERS) &&
		    !__atomic_compare_exchange_n(w, &v, v | ONCE_WAITERS, false,
						 __ATOMIC_SEQ_CST,
						 __ATOMIC_SEQ_CST))
			continue;
		rt_futex_wait_why(w, v | ONCE_WAITERS, -1, WAIT_ONCE);
	}
}

EXPORT void call_once(pthread_once_t *once, void (*f)(void))
{
	pthread_once(once, f);
}
