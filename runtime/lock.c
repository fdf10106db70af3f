/*
 * lock.c - rt_mutex and the raw futex calls.
 *
 * Design: the classic three-state futex mutex.  rt_lock tries a CAS 0->1,
 * spins ~100 iterations with PAUSE watching for 0, then sets the word to 2
 * and sleeps in FUTEX_WAIT until it exchanges 0->2 successfully.  rt_unlock
 * exchanges to 0 and wakes one sleeper only if the old value was 2.  This
 * keeps the uncontended path at one atomic each way.
 *
 * Rejected: a ticket spinlock (burns the other vCPU while a holder is
 * descheduled, and this machine has only two); pthread_mutex (would recurse
 * into our own interposed symbols).
 */
#include "lock.h"

#include <errno.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "atomic.h"
#include "sys.h"

long rt_futex_wait_os(uint32_t *addr, uint32_t val, int64_t timeout_ns)
{
	struct timespec ts, *tsp = NULL;
	if (timeout_ns >= 0) {
		ts.tv_sec = timeout_ns / 1000000000;
		ts.tv_nsec = timeout_ns % 1000000000;
		tsp = &ts;
	}
	return rt_syscall6(SYS_futex, (long)addr, FUTEX_WAIT_PRIVATE, val,
			   (long)tsp, 0, 0);
}

long rt_futex_wake_os(uint32_t *addr, int n)
{
	return rt_syscall6(SYS_futex, (long)addr, FUTEX_WAKE_PRIVATE, n, 0, 0,
			   0);
}

int rt_trylock(rt_mutex *l) { return rt_cas(&l->key, 0u, 1u); }

void rt_lock(rt_mutex *l)
{
	if (rt_cas(&l->key, 0u, 1u))
		return;
	for (int i = 0; i < 100; i++) {
		if (rt_load_relaxed(&l->key) == 0 && rt_cas(&l->key, 0u, 1u))
			return;
		rt_cpu_relax();
	}
	/* Mark contended; whoever unlocks will wake us. */
	while (rt_xchg(&l->key, 2u) != 0)
		rt_futex_wait_os(&l->key, 2, -1);
}

void rt_unlock(rt_mutex *l)
{
	if (rt_xchg(&l->key, 0u) == 2)
		rt_futex_wake_os(&l->key, 1);
}
