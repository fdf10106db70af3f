/*
 * barrier.c - pthread_barrier_* and pthread_barrierattr_*.
 *
 * The program's pthread_barrier_t (32 bytes) holds an in-object lock,
 * the count, how many have arrived in this round and a round number.
 * The last arrival starts a new round (round++, arrived = 0), wakes
 * everyone waiting on the round word and returns
 * PTHREAD_BARRIER_SERIAL_THREAD; the others park until the round number
 * changes (re-checked after every wake, so spurious wakes are harmless),
 * which also makes the barrier reusable at once.  `inside` counts waiters
 * still in pthread_barrier_wait, so destroy (and a free after it) waits
 * until none reads the barrier any more, as glibc guarantees.  Errors as glibc: EINVAL
 * for count 0 or above INT_MAX, EBUSY for destroy during a round.
 */
#include <errno.h>
#include <limits.h>

#include "shim.h"

struct sbar {
	uint32_t lock;
	uint32_t count;
	uint32_t arrived;
	uint32_t round;
	int32_t shared;
	uint32_t inside; /* atomic: waiters not yet returned (destroy waits) */
	uint32_t pad[2];
};
_Static_assert(sizeof(struct sbar) <= sizeof(pthread_barrier_t), "sbar size");

#define BAR(b) ((struct sbar *)(void *)(b))

EXPORT int pthread_barrier_init(pthread_barrier_t *b,
				const pthread_barrierattr_t *a, unsigned count)
{
	if (count == 0 || count > INT_MAX)
		return EINVAL;
	memset(b, 0, sizeof *b);
	BAR(b)->count = count;
	BAR(b)->shared = a && *(const int *)(const void *)a;
	return 0;
}

EXPORT int pthread_barrier_destroy(pthread_barrier_t *b)
{
	struct sbar *s = BAR(b);
	shim_ilock(&s->lock, s->shared);
	int busy = s->arrived != 0;
	shim_iunlock(&s->lock, s->shared);
	if (busy)
		return EBUSY;
	/* Woken waiters may still be reading `round`: let them leave. */
	while (__atomic_load_n(&s->inside, __ATOMIC_ACQUIRE) != 0)
		rt_yield();
	return 0;
}

EXPORT int pthread_barrier_wait(pthread_barrier_t *b)
{
	shim_check();
	struct sbar *s = BAR(b);
	shim_ilock(&s->lock, s->shared);
	if (++s->arrived == s->count) {
		s->arrived = 0;
		__atomic_add_fetch(&s->round, 1u, __ATOMIC_SEQ_CST);
		shim_iunlock(&s->lock, s->shared);
		shim_wake_word(&s->round, INT32_MAX, s->shared);
		return PTHREAD_BARRIER_SERIAL_THREAD;
	}
	uint32_t r = s->round;
	__atomic_add_fetch(&s->inside, 1u, __ATOMIC_RELAXED);
	shim_iunlock(&s->lock, s->shared);
	while (__atomic_load_n(&s->round, __ATOMIC_ACQUIRE) == r)
		shim_wait_word_lock(&s->round, r, -1, s->shared, WAIT_BARRIER);
	__atomic_sub_fetch(&s->inside, 1u, __ATOMIC_RELEASE); /* last access */
	return 0;
}

EXPORT int pthread_barrierattr_init(pthread_barrierattr_t *a)
{
	memset(a, 0, sizeof *a);
	return 0;
}

EXPORT int pthread_barrierattr_destroy(pthread_barrierattr_t *a) { return 0; }

EXPORT int pthread_barrierattr_setpshared(pthread_barrierattr_t *a, int p)
{
	if (p != PTHREAD_PROCESS_PRIVATE && p != PTHREAD_PROCESS_SHARED)
		return EINVAL;
	*(int *)(void *)a = p == PTHREAD_PROCESS_SHARED;
	return 0;
}

EXPORT int pthread_barrierattr_getpshared(const pthread_barrierattr_t *a,
					  int *p)
{
	*p = *(const int *)(const void *)a ? PTHREAD_PROCESS_SHARED
					     : PTHREAD_PROCESS_PRIVATE;
	return 0;
}
