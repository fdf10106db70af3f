/*
 * lock.h - rt_mutex, the runtime's internal lock (Go's lock_futex.go).
 *
 * A three-state futex word (0 free, 1 held, 2 held with sleepers), as in
 * Drepper's "Futexes Are Tricky" mutex #2.  It blocks the *OS thread*, so it
 * may only guard short critical sections that never park a G.  Spins
 * briefly before sleeping.  Zero-initialised memory is an unlocked mutex.
 *
 * Thread-safety: any thread; not async-signal-safe.
 */
#ifndef GREENRUN_LOCK_H
#define GREENRUN_LOCK_H

#include <stdint.h>

typedef struct {
	uint32_t key;
} rt_mutex;

/* Acquire / release.  Never fail.  Not recursive. */
void rt_lock(rt_mutex *l);
void rt_unlock(rt_mutex *l);
/* Returns 1 when acquired without waiting, else 0. */
int rt_trylock(rt_mutex *l);

/* Raw futex helpers (private futexes).  Return -errno or 0/count. */
long rt_futex_wait_os(uint32_t *addr, uint32_t val, int64_t timeout_ns);
long rt_futex_wake_os(uint32_t *addr, int n);

#endif
