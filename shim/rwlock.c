/*
 * rwlock.c - pthread_rwlock_* and pthread_rwlockattr_*: reader-writer
 * locks whose waiters park the G.
 *
 * The program's pthread_rwlock_t (56 bytes, PTHREAD_RWLOCK_INITIALIZER =
 * zeros) holds our state; the kind stays where glibc's static
 * initialisers put it (__flags, offset 48), so
 * PTHREAD_RWLOCK_WRITER_NONRECURSIVE_INITIALIZER_NP works unchanged.
 * A short in-object lock (shim_ilock on `lock`) guards the counters;
 * readers and writers wait on two generation words (rgen, wgen) in the G
 * wait queue: a waiter reads the generation under the lock, releases it,
 * and parks only while the generation is unchanged, so no wake-up is lost.
 *
 * Policy, as glibc: PREFER_READER (default) and PREFER_WRITER admit a
 * reader whenever no writer holds the lock (writers can starve, natively
 * too); PREFER_WRITER_NONRECURSIVE makes new readers wait while a writer
 * waits.  A writer's unlock wakes one writer if any waits (and, for the
 * reader-preferring kinds, all readers too), else all readers.
 * EDEADLK when the write owner asks again (read or write; the try
 * variants say EBUSY then too, as glibc), EBUSY for the try variants, EAGAIN past UINT_MAX readers, ETIMEDOUT, EINVAL for a bad
 * timespec (checked up front, as glibc does for rwlocks) or clock.
 */
#include <errno.h>
#include <limits.h>
#include <unistd.h>

#include "shim.h"

struct srw {
	uint32_t lock;    /* shim_ilock word */
	uint32_t readers; /* active readers */
	uint32_t rgen;    /* readers park on this */
	uint32_t wgen;    /* writers park on this */
	uint32_t rwait;   /* readers waiting */
	uint32_t wwait;   /* writers waiting */
	int32_t writer;   /* id of the write owner, 0 = none */
	int32_t shared;   /* process-shared */
	int32_t writerpid; /* pid of the write owner (ids are unique only
			      within a process) */
	uint8_t pad[12];
	uint32_t flags;   /* kind (glibc's __flags, offset 48) */
	uint32_t pad2;
};
_Static_assert(sizeof(struct srw) == sizeof(pthread_rwlock_t), "srw size");
_Static_assert(offsetof(struct srw, flags) ==
		   offsetof(pthread_rwlock_t, __data.__flags), "kind offset");

#define RW(r) ((struct srw *)(void *)(r))

static bool writer_is_me(const struct srw *w, int me)
{
	return w->writer == me && w->writerpid == shim_pid;
}

struct srwattr {
	int kind;
	int shared;
};

EXPORT int pthread_rwlock_init(pthread_rwlock_t *r,
			       const pthread_rwlockattr_t *a)
{
	memset(r, 0, sizeof *r);
	if (a) {
		const struct srwattr *sa = (const void *)a;
		RW(r)->flags = (uint32_t)sa->kind;
		RW(r)->shared = sa->shared;
	}
	return 0;
}

EXPORT int pthread_rwlock_destroy(pthread_rwlock_t *r) { return 0; }

static bool reader_may_enter(const struct srw *w)
{
	if (w->writer)
		return false;
	return w->flags != PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP ||
	       w->wwait == 0;
}

/* Park on *gen (seen under the lock); re-takes the lock. */
static int park_on(struct srw *w, uint32_t *gen, uint32_t *nwait,
		   int64_t deadline)
{
	uint32_t seen = *gen;
	(*nwait)++;
	shim_iunlock(&w->lock, w->shared);
	int e = shim_wait_word_lock(gen, seen, deadline, w->shared, WAIT_RWLOCK);
	shim_ilock(&w->lock, w->shared);
	(*nwait)--;
	return e == ETIMEDOUT ? ETIMEDOUT : 0;
}

static bool writer_may_enter(const struct srw *w)
{
	return !w->writer && !w->readers;
}

/* Lock held: wait until may_enter(w).  0, EBUSY (try) or ETIMEDOUT. */
static int wait_until(struct srw *w, bool (*may_enter)(const struct srw *),
		      uint32_t *gen, uint32_t *nwait, int64_t deadline,
		      bool try)
{
	while (!may_enter(w)) {
		if (try)
			return EBUSY;
		if (park_on(w, gen, nwait, deadline) == ETIMEDOUT &&
		    !may_enter(w))
			return ETIMEDOUT;
	}
	return 0;
}

/* The timed variants checked their timespec up front (clocked()). */
static int rdlock(pthread_rwlock_t *r, int64_t deadline, bool try)
{
	shim_check();
	shim_preempt_point();
	struct srw *w = RW(r);
	shim_ilock(&w->lock, w->shared);
	int e = writer_is_me(w, shim_self_id())
		    ? (try ? EBUSY : EDEADLK)
		    : wait_until(w, reader_may_enter, &w->rgen, &w->rwait,
				 deadline, try);
	if (!e) {
		if (w->readers == UINT_MAX)
			e = EAGAIN;
		else
			w->readers++;
	}
	shim_iunlock(&w->lock, w->shared);
	return e;
}

/* Wake readers if none should wait any more (lock held; wakes after). */
static bool readers_admissible(struct srw *w)
{
	return w->rwait && reader_may_enter(w);
}

static int wrlock(pthread_rwlock_t *r, int64_t deadline, bool try)
{
	shim_check();
	shim_preempt_point();
	struct srw *w = RW(r);
	int me = shim_self_id();
	shim_ilock(&w->lock, w->shared);
	int e = writer_is_me(w, me)
		    ? (try ? EBUSY : EDEADLK)
		    : wait_until(w, writer_may_enter, &w->wgen, &w->wwait,
				 deadline, try);
	bool wake = false;
	if (!e) {
		w->writer = me;
		w->writerpid = shim_pid;
	} else if (e == ETIMEDOUT) {
		/* we may have been what held readers back */
		wake = readers_admissible(w);
		if (wake)
			w->rgen++;
	}
	shim_iunlock(&w->lock, w->shared);
	if (wake)
		shim_wake_word(&w->rgen, INT32_MAX, w->shared);
	return e;
}

EXPORT int pthread_rwlock_unlock(pthread_rwlock_t *r)
{
	shim_check();
	struct srw *w = RW(r);
	shim_ilock(&w->lock, w->shared);
	if (writer_is_me(w, shim_self_id()))
		w->writer = 0;
	else if (w->readers > 0)
		w->readers--;
	bool free = !w->writer && !w->readers;
	bool wake_w = free && w->wwait > 0;
	bool wake_r = readers_admissible(w) &&
		      (!wake_w || w->flags != PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	if (wake_w)
		w->wgen++;
	if (wake_r)
		w->rgen++;
	shim_iunlock(&w->lock, w->shared);
	if (wake_w)
		shim_wake_word(&w->wgen, 1, w->shared);
	if (wake_r)
		shim_wake_word(&w->rgen, INT32_MAX, w->shared);
	shim_preempt_point();
	return 0;
}

EXPORT int pthread_rwlock_rdlock(pthread_rwlock_t *r)
{
	return rdlock(r, -1, false);
}

EXPORT int pthread_rwlock_tryrdlock(pthread_rwlock_t *r)
{
	return rdlock(r, -1, true);
}

EXPORT int pthread_rwlock_wrlock(pthread_rwlock_t *r)
{
	return wrlock(r, -1, false);
}

EXPORT int pthread_rwlock_trywrlock(pthread_rwlock_t *r)
{
	return wrlock(r, -1, true);
}

/* The timed and clock variants: glibc checks the clock and the timespec
 * up front, even when the lock is free. */
static int clocked(pthread_rwlock_t *r, clockid_t clk,
		   const struct timespec *abs,
		   int (*lock)(pthread_rwlock_t *, int64_t, bool))
{
	if ((clk != CLOCK_REALTIME && clk != CLOCK_MONOTONIC) ||
	    !shim_ts_valid_nsec(abs))
		return EINVAL;
	int64_t d = shim_abs_to_mono(clk, abs);
	return lock(r, d < 0 ? 0 : d, false);
}

EXPORT int pthread_rwlock_clockrdlock(pthread_rwlock_t *r, clockid_t clk,
				      const struct timespec *abs)
{
	return clocked(r, clk, abs, rdlock);
}

EXPORT int pthread_rwlock_timedrdlock(pthread_rwlock_t *r,
				      const struct timespec *abs)
{
	return clocked(r, CLOCK_REALTIME, abs, rdlock);
}

EXPORT int pthread_rwlock_clockwrlock(pthread_rwlock_t *r, clockid_t clk,
				      const struct timespec *abs)
{
	return clocked(r, clk, abs, wrlock);
}

EXPORT int pthread_rwlock_timedwrlock(pthread_rwlock_t *r,
				      const struct timespec *abs)
{
	return clocked(r, CLOCK_REALTIME, abs, wrlock);
}

/* ---- attributes -------------------------------------------------------- */

#define RA(a) ((struct srwattr *)(void *)(a))
#define CRA(a) ((const struct srwattr *)(const void *)(a))

EXPORT int pthread_rwlockattr_init(pthread_rwlockattr_t *a)
{
	memset(a, 0, sizeof *a);
	return 0;
}

EXPORT int pthread_rwlockattr_destroy(pthread_rwlockattr_t *a) { return 0; }

EXPORT int pthread_rwlockattr_setkind_np(pthread_rwlockattr_t *a, int k)
{
	if (k != PTHREAD_RWLOCK_PREFER_READER_NP &&
	    k != PTHREAD_RWLOCK_PREFER_WRITER_NP &&
	    k != PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP)
		return EINVAL;
	RA(a)->kind = k;
	return 0;
}

EXPORT int pthread_rwlockattr_getkind_np(const pthread_rwlockattr_t *a, int *k)
{
	*k = CRA(a)->kind;
	return 0;
}

EXPORT int pthread_rwlockattr_setpshared(pthread_rwlockattr_t *a, int p)
{
	if (p != PTHREAD_PROCESS_PRIVATE && p != PTHREAD_PROCESS_SHARED)
		return EINVAL;
	RA(a)->shared = p == PTHREAD_PROCESS_SHARED;
	return 0;
}

EXPORT int pthread_rwlockattr_getpshared(const pthread_rwlockattr_t *a, int *p)
{
	*p = CRA(a)->shared ? PTHREAD_PROCESS_SHARED : PTHREAD_PROCESS_PRIVATE;
	return 0;
}
