/*
 * mutexattr.c - pthread_mutexattr_*.  The 4-byte attribute holds exactly
 * the bits mutex.c keeps in a mutex's __kind (type, robust, protocol,
 * pshared, priority ceiling), so pthread_mutex_init copies it over.
 * Values and EINVAL cases as glibc 2.36.
 */
#include <errno.h>
#include <sched.h>
#include <string.h>

#include "shim.h"

#define A_TYPE 3
#define A_ROBUST 16
#define A_INHERIT 32
#define A_PROTECT 64
#define A_PSHARED 128
#define A_CEIL_SHIFT 19
#define A_CEIL_MASK (0xfff << A_CEIL_SHIFT)

#define AV(a) (*(int *)(void *)(a))
#define CAV(a) (*(const int *)(const void *)(a))

int shim_mutexattr_kind(const pthread_mutexattr_t *a) { return CAV(a); }

EXPORT int pthread_mutexattr_init(pthread_mutexattr_t *a)
{
	memset(a, 0, sizeof *a);
	return 0;
}

EXPORT int pthread_mutexattr_destroy(pthread_mutexattr_t *a) { return 0; }

EXPORT int pthread_mutexattr_settype(pthread_mutexattr_t *a, int t)
{
	if (t < PTHREAD_MUTEX_NORMAL || t > PTHREAD_MUTEX_ADAPTIVE_NP)
		return EINVAL;
	AV(a) = (AV(a) & ~A_TYPE) | t;
	return 0;
}

EXPORT int pthread_mutexattr_gettype(const pthread_mutexattr_t *a, int *t)
{
	*t = CAV(a) & A_TYPE;
	return 0;
}

EXPORT int pthread_mutexattr_setkind_np(pthread_mutexattr_t *a, int t)
{
	return pthread_mutexattr_settype(a, t);
}

EXPORT int pthread_mutexattr_getkind_np(const pthread_mutexattr_t *a, int *t)
{
	return pthread_mutexattr_gettype(a, t);
}

EXPORT int pthread_mutexattr_setpshared(pthread_mutexattr_t *a, int p)
{
	if (p != PTHREAD_PROCESS_PRIVATE && p != PTHREAD_PROCESS_SHARED)
		return EINVAL;
	AV(a) = p == PTHREAD_PROCESS_SHARED ? AV(a) | A_PSHARED
					    : AV(a) & ~A_PSHARED;
	return 0;
}

EXPORT int pthread_mutexattr_getpshared(const pthread_mutexattr_t *a, int *p)
{
	*p = CAV(a) & A_PSHARED ? PTHREAD_PROCESS_SHARED
				: PTHREAD_PROCESS_PRIVATE;
	return 0;
}

EXPORT int pthread_mutexattr_setrobust(pthread_mutexattr_t *a, int r)
{
	if (r != PTHREAD_MUTEX_STALLED && r != PTHREAD_MUTEX_ROBUST)
		return EINVAL;
	AV(a) = r == PTHREAD_MUTEX_ROBUST ? AV(a) | A_ROBUST : AV(a) & ~A_ROBUST;
	return 0;
}

EXPORT int pthread_mutexattr_getrobust(const pthread_mutexattr_t *a, int *r)
{
	*r = CAV(a) & A_ROBUST ? PTHREAD_MUTEX_ROBUST : PTHREAD_MUTEX_STALLED;
	return 0;
}

/* Old names; glibc's header redirects them, old binaries import them. */
EXPORT int shim_setrobust_np(pthread_mutexattr_t *a, int r)
    __asm__("pthread_mutexattr_setrobust_np");
EXPORT int shim_getrobust_np(const pthread_mutexattr_t *a, int *r)
    __asm__("pthread_mutexattr_getrobust_np");

int shim_setrobust_np(pthread_mutexattr_t *a, int r)
{
	return pthread_mutexattr_setrobust(a, r);
}

int shim_getrobust_np(const pthread_mutexattr_t *a, int *r)
{
	return pthread_mutexattr_getrobust(a, r);
}

EXPORT int pthread_mutexattr_setprotocol(pthread_mutexattr_t *a, int p)
{
	if (p != PTHREAD_PRIO_NONE && p != PTHREAD_PRIO_INHERIT &&
	    p != PTHREAD_PRIO_PROTECT)
		return EINVAL;
	AV(a) &= ~(A_INHERIT | A_PROTECT);
	if (p == PTHREAD_PRIO_INHERIT)
		AV(a) |= A_INHERIT;
	else if (p == PTHREAD_PRIO_PROTECT)
		AV(a) |= A_PROTECT;
	return 0;
}

EXPORT int pthread_mutexattr_getprotocol(const pthread_mutexattr_t *a, int *p)
{
	*p = CAV(a) & A_INHERIT   ? PTHREAD_PRIO_INHERIT
	     : CAV(a) & A_PROTECT ? PTHREAD_PRIO_PROTECT
				  : PTHREAD_PRIO_NONE;
	return 0;
}

EXPORT int pthread_mutexattr_setprioceiling(pthread_mutexattr_t *a, int c)
{
	if (c < sched_get_priority_min(SCHED_FIFO) ||
	    c > sched_get_priority_max(SCHED_FIFO))
		return EINVAL;
	AV(a) = (AV(a) & ~A_CEIL_MASK) | (c << A_CEIL_SHIFT);
	return 0;
}

EXPORT int pthread_mutexattr_getprioceiling(const pthread_mutexattr_t *a,
					    int *c)
{
	*c = (CAV(a) & A_CEIL_MASK) >> A_CEIL_SHIFT;
	if (*c == 0) /* never set: glibc reports the lowest FIFO priority */
		*c = sched_get_priority_min(SCHED_FIFO);
	return 0;
}
