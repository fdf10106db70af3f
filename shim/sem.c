/*
 * sem.c - POSIX unnamed and named semaphores: sem_wait and friends park
 * the G.
 *
 * Layout and protocol are glibc's own (nptl/sem_waitcommon.c, 64-bit
 * variant): a 64-bit word with the value in the low 32 bits and the
 * number of waiters in the high 32 bits, then an int `private`: glibc's
 * FUTEX_PRIVATE (0) or FUTEX_SHARED (128), as sem_open sets it.  Keeping
 * glibc's layout means semaphores made by glibc's sem_open (which we do
 * not interpose) and semaphores shared with processes that run without
 * greenrun work unchanged: shared ones wait in the kernel futex on the
 * value word, private ones in the G wait queue.
 *
 * post: value+1 (EOVERFLOW at SEM_VALUE_MAX), then wake one if the waiter
 * count is non-zero.  wait: take a unit with CAS if value > 0; else
 * register as a waiter and park while value == 0; a unit and the waiter
 * registration are taken back in one CAS.  Errors as glibc: EINVAL (value
 * > SEM_VALUE_MAX, bad timespec, bad clock), EAGAIN (trywait), ETIMEDOUT,
 * EOVERFLOW; sem_* return -1 with errno.
 */
#include <errno.h>
#include <limits.h>
#include <semaphore.h>

#include "shim.h"

struct ssem {
	uint64_t data;   /* value | nwaiters << 32 */
	int private;     /* glibc's FUTEX_PRIVATE (0) or FUTEX_SHARED (128:
			    glibc's LLL_SHARED is FUTEX_PRIVATE_FLAG, xored
			    in later; the names read backwards) */
};
_Static_assert(sizeof(struct ssem) <= sizeof(sem_t), "ssem size");

#define SEM(s) ((struct ssem *)(void *)(s))
#define NWAITERS_ONE (1ull << 32)

static uint32_t *value_word(struct ssem *s) { return (uint32_t *)&s->data; }

static int fail(int e)
{
	errno = e;
	return -1;
}

EXPORT int sem_init(sem_t *sem, int pshared, unsigned value)
{
	if (value > SEM_VALUE_MAX)
		return fail(EINVAL);
	memset(sem, 0, sizeof *sem);
	SEM(sem)->data = value;
	SEM(sem)->private = pshared ? 128 : 0;
	return 0;
}

EXPORT int sem_destroy(sem_t *sem) { return 0; }

EXPORT int sem_getvalue(sem_t *sem, int *v)
{
	*v = (int)(uint32_t)__atomic_load_n(&SEM(sem)->data, __ATOMIC_RELAXED);
	return 0;
}

EXPORT int sem_post(sem_t *sem)
{
	struct ssem *s = SEM(sem);
	uint64_t d = __atomic_load_n(&s->data, __ATOMIC_RELAXED);
	do {
		if ((uint32_t)d == SEM_VALUE_MAX)
			return fail(EOVERFLOW);
	} while (!__atomic_compare_exchange_n(&s->data, &d, d + 1, true,
					      __ATOMIC_RELEASE,
					      __ATOMIC_RELAXED));
	if (d >> 32) {
		shim_check();
		shim_wake_word(value_word(s), 1, s->private != 0);
	}
	return 0;
}

/* Take a unit if there is one. */
static bool try_take(struct ssem *s, uint64_t dec)
{
	uint64_t d = __atomic_load_n(&s->data, __ATOMIC_RELAXED);
	while ((uint32_t)d > 0) {
		if (__atomic_compare_exchange_n(&s->data, &d, d - dec, true,
						__ATOMIC_ACQUIRE,
						__ATOMIC_RELAXED))
			return true;
	}
	return false;
}

static int sem_wait_common(sem_t *sem, int64_t deadline)
{
	struct ssem *s = SEM(sem);
	if (try_take(s, 1))
		return 0;
	shim_check();
	shim_testcancel();
	__atomic_add_fetch(&s->data, NWAITERS_ONE, __ATOMIC_RELAXED);
	for (;;) {
		if (try_take(s, 1 + NWAITERS_ONE))
			return 0;
		int e = SHIM_INTR(shim_wait_word(value_word(s), 0, deadline,
						 s->private != 0, WAIT_SEM));
		if (e == EINTR) {
			__atomic_sub_fetch(&s->data, NWAITERS_ONE,
					   __ATOMIC_RELAXED);
			/* restarted with SA_RESTART (signal(7)) */
			if (!shim_intr_restart(true))
				return fail(EINTR);
			__atomic_add_fetch(&s->data, NWAITERS_ONE,
					   __ATOMIC_RELAXED);
			continue;
		}
		if (e != ETIMEDOUT)
			continue;
		if (try_take(s, 1 + NWAITERS_ONE))
			return 0;
		__atomic_sub_fetch(&s->data, NWAITERS_ONE, __ATOMIC_RELAXED);
		return fail(ETIMEDOUT);
	}
}

EXPORT int sem_wait(sem_t *sem) { return sem_wait_common(sem, -1); }

EXPORT int sem_trywait(sem_t *sem)
{
	return try_take(SEM(sem), 1) ? 0 : fail(EAGAIN);
}

EXPORT int sem_clockwait(sem_t *sem, clockid_t clk, const struct timespec *abs)
{
	if (clk != CLOCK_REALTIME && clk != CLOCK_MONOTONIC)
		return fail(EINVAL);
	if (!shim_ts_valid_nsec(abs))
		return fail(EINVAL);
	int64_t dl = shim_abs_to_mono(clk, abs);
	return sem_wait_common(sem, dl < 0 ? 0 : dl);
}

EXPORT int sem_timedwait(sem_t *sem, const struct timespec *abs)
{
	return sem_clockwait(sem, CLOCK_REALTIME, abs);
}
