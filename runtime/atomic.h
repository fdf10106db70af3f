/*
 * atomic.h - the only way runtime/ touches shared memory concurrently.
 *
 * Thin wrappers over the GCC __atomic builtins with the memory order spelled
 * in the name, so every call site says which ordering it relies on and (in a
 * comment beside it) what it pairs with.  Modelled on musl's
 * src/internal/atomic.h and Go's runtime/internal/atomic: load-acquire,
 * store-release, and sequentially consistent read-modify-write.
 *
 * Thread-safety: all functions are safe from any thread and from signal
 * handlers (they compile to single instructions on x86_64).
 */
#ifndef GREENRUN_ATOMIC_H
#define GREENRUN_ATOMIC_H

#include <stdbool.h>
#include <stdint.h>

#define rt_load_relaxed(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#define rt_load_acq(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define rt_load(p) __atomic_load_n((p), __ATOMIC_SEQ_CST)
#define rt_store_relaxed(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define rt_store_rel(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define rt_store(p, v) __atomic_store_n((p), (v), __ATOMIC_SEQ_CST)
#define rt_xchg(p, v) __atomic_exchange_n((p), (v), __ATOMIC_SEQ_CST)
#define rt_xadd(p, v) __atomic_add_fetch((p), (v), __ATOMIC_SEQ_CST)
#define rt_fetch_add(p, v) __atomic_fetch_add((p), (v), __ATOMIC_SEQ_CST)
#define rt_fetch_or(p, v) __atomic_fetch_or((p), (v), __ATOMIC_SEQ_CST)
#define rt_fetch_and(p, v) __atomic_fetch_and((p), (v), __ATOMIC_SEQ_CST)

#define rt_or64(p, v) ((void)__atomic_fetch_or((p), (v), __ATOMIC_SEQ_CST))
#define rt_and64(p, v) ((void)__atomic_fetch_and((p), (v), __ATOMIC_SEQ_CST))
#define rt_xchg64(p, v) __atomic_exchange_n((p), (v), __ATOMIC_SEQ_CST)

/* Strong compare-and-swap; returns true when *p was `old` and is now `new`. */
#define rt_cas(p, old, new)                                                    \
	({                                                                     \
		__typeof__(*(p)) _o = (old);                                   \
		__atomic_compare_exchange_n((p), &_o, (new), false,            \
					    __ATOMIC_SEQ_CST,                  \
					    __ATOMIC_SEQ_CST);                 \
	})

/* Release-ordered CAS (runq head/tail publication, as Go's CasRel). */
#define rt_cas_rel(p, old, new)                                                \
	({                                                                     \
		__typeof__(*(p)) _o = (old);                                   \
		__atomic_compare_exchange_n((p), &_o, (new), false,            \
					    __ATOMIC_RELEASE,                  \
					    __ATOMIC_RELAXED);                 \
	})

static inline void rt_cpu_relax(void) { __builtin_ia32_pause(); }

#endif
