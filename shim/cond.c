/*
 * cond.c - pthread_cond_* and pthread_condattr_*: condition variables
 * whose waiters park the G.
 *
 * Design: a sequence counter.  The program's pthread_cond_t (48 bytes,
 * PTHREAD_COND_INITIALIZER = zeros) holds
 *   word 0  seq: bumped by every signal and broadcast (the futex word)
 *   word 1  flags: clock (CLOCK_MONOTONIC bit) and process-shared
 * A waiter reads seq while it still holds the mutex, releases the mutex,
 * then rt_futex_wait(&seq, seen): the G wait queue checks seq under its
 * bucket lock, so a signal between the mutex release and the park makes
 * the wait return at once (no lost wake-up).  signal wakes one queued
 * waiter FIFO, broadcast all.  A waiter may wake spuriously (POSIX allows
 * it).  Destroying it right after a broadcast is safe: destroy waits
 * until every waiter has left (word 2).  signal with nobody waiting costs
 * one atomic increment and one load (park.c's fast path).
 *
 * Rejected: glibc's two-group algorithm (solves the kernel futex's lack of
 * FIFO order, which our wait queue has).
 *
 * word 2 counts the waiters inside cond_wait, so that destroy can wait for
 * them to leave (see pthread_cond_destroy).
 *
 * Process-shared condvars use the kernel futex on seq.  The timeout clock
 * is the condattr clock (CLOCK_REALTIME by default); clockwait takes its
 * own (REALTIME or MONOTONIC, else EINVAL).  Errors as glibc: EINVAL (bad
 * timespec, clock), ETIMEDOUT, EPERM (errorcheck/recursive/robust mutex
 * not held).
 */
#include <errno.h>

#include "shim.h"

#define C_MONOTONIC 1u
#define C_PSHARED 2u

#define SEQ(c) ((uint32_t *)(void *)(c))
#define FLAGS(c) (((uint32_t *)(void *)(c))[1])
/* word 2: waiters inside cond_wait (registered under the mutex, leave
 * after their wait returned); W_DESTROYER: destroy waits for them */
#define WREFS(c) (&((uint32_t *)(void *)(c))[2])
#define W_DESTROYER 0x80000000u

EXPORT int pthread_cond_init(pthread_cond_t *c, const pthread_condattr_t *a)
{
	memset(c, 0, sizeof *c);
	if (a)
		FLAGS(c) = *(const uint32_t *)(const void *)a;
	return 0;
}

/* Wait until every waiter has left cond_wait, as glibc's destroy does:
 * after a broadcast, a woken waiter may not have reached its futex wait
 * yet, and a program that destroys and reuses the memory (Open POSIX
 * pthread_cond_destroy/2-1 zeroes it) would reset seq under it to the
 * value it saw: its wait then blocks for good (with one P and a
 * process-shared condvar, 1 run in 3 hung).  Waiters still blocked
 * (destroying then is undefined) keep it waiting, as in glibc. */
EXPORT int pthread_cond_destroy(pthread_cond_t *c)
{
	shim_check();
	bool shared = FLAGS(c) & C_PSHARED;
	uint32_t v = __atomic_load_n(WREFS(c), __ATOMIC_ACQUIRE);
	while (v & ~W_DESTROYER) {
		if (!(v & W_DESTROYER) &&
		    !__atomic_compare_exchange_n(WREFS(c), &v, v | W_DESTROYER,
						 false, __ATOMIC_ACQ_REL,
						 __ATOMIC_ACQUIRE))
			continue;
		shim_wait_word(WREFS(c), v | W_DESTROYER, -1, shared,
			       WAIT_COND);
		v = __atomic_load_n(WREFS(c), __ATOMIC_ACQUIRE);
	}
	return 0;
}

static void wake(pthread_cond_t *c, int n)
{
	__atomic_add_fetch(SEQ(c), 1u, __ATOMIC_SEQ_CST);
	shim_wake_word(SEQ(c), n, FLAGS(c) & C_PSHARED);
}

EXPORT int pthread_cond_signal(pthread_cond_t *c)
{
	shim_check();
	wake(c, 1);
	shim_preempt_point();
	return 0;
}

EXPORT int pthread_cond_broadcast(pthread_cond_t *c)
{
	shim_check();
	wake(c, INT32_MAX);
	shim_preempt_point();
	return 0;
}

static int cond_wait(pthread_cond_t *c, pthread_mutex_t *m, int64_t deadline)
{
	shim_check();
	shim_testcancel(); /* a cancellation point: the mutex is held */
	uint32_t seen = __atomic_load_n(SEQ(c), __ATOMIC_SEQ_CST);
	/* Read with the mutex still held: once it is released, a thread
	 * that broadcast may destroy and re-initialise the condvar (POSIX
	 * allows it), and flags read then could say "private" for a
	 * process-shared one: the wait would go on greenrun's own queue,
	 * where the other process's kernel wake-up never comes (Open POSIX
	 * pthread_cond_destroy/2-1 hung with one P). */
	bool shared = FLAGS(c) & C_PSHARED;
	__atomic_add_fetch(WREFS(c), 1u, __ATOMIC_ACQ_REL);
	unsigned depth;
	int e = shim_mutex_release(m, &depth);
	if (e) {
		__atomic_sub_fetch(WREFS(c), 1u, __ATOMIC_ACQ_REL);
		return e;
	}
	int r = SHIM_INTR(shim_wait_word(SEQ(c), seen, deadline, shared,
					 WAIT_COND));
	/* the last thing done to the condvar: destroy may return now */
	if (__atomic_sub_fetch(WREFS(c), 1u, __ATOMIC_ACQ_REL) == W_DESTROYER)
		shim_wake_word(WREFS(c), INT32_MAX, shared);
	if (r == EAGAIN) /* signalled before we slept: a normal wake-up */
		r = 0;
	bool intr = r == EINTR;
	if (intr) { /* handlers run unlocked, as during a native wait; to
		       the caller this is a spurious wake-up (allowed) */
		rt_sigcheck();
		r = 0;
	}
	e = shim_mutex_reacquire(m, depth);
	if (intr) /* POSIX: cleanup handlers run with the mutex held */
		shim_testcancel();
	return e ? e : r;
}

EXPORT int pthread_cond_wait(pthread_cond_t *c, pthread_mutex_t *m)
{
	return cond_wait(c, m, -1);
}

EXPORT int pthread_cond_clockwait(pthread_cond_t *c, pthread_mutex_t *m,
				  clockid_t clk, const struct timespec *abs)
{
	if (clk != CLOCK_REALTIME && clk != CLOCK_MONOTONIC)
		return EINVAL;
	if (!shim_ts_valid_nsec(abs))
		return EINVAL;
	int64_t dl = shim_abs_to_mono(clk, abs);
	return cond_wait(c, m, dl < 0 ? 0 : dl);
}

EXPORT int pthread_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m,
				  const struct timespec *abs)
{
	clockid_t clk = FLAGS(c) & C_MONOTONIC ? CLOCK_MONOTONIC : CLOCK_REALTIME;
	return pthread_cond_clockwait(c, m, clk, abs);
}

/* ---- condattr: one int: C_MONOTONIC | C_PSHARED ------------------------- */

#define CA(a) (*(uint32_t *)(void *)(a))
#define CCA(a) (*(const uint32_t *)(const void *)(a))

EXPORT int pthread_condattr_init(pthread_condattr_t *a)
{
	memset(a, 0, sizeof *a);
	return 0;
}

EXPORT int pthread_condattr_destroy(pthread_condattr_t *a) { return 0; }

EXPORT int pthread_condattr_setclock(pthread_condattr_t *a, clockid_t clk)
{
	if (clk == CLOCK_MONOTONIC)
		CA(a) |= C_MONOTONIC;
	else if (clk == CLOCK_REALTIME)
		CA(a) &= ~C_MONOTONIC;
	else
		return EINVAL;
	return 0;
}

EXPORT int pthread_condattr_getclock(const pthread_condattr_t *a,
				     clockid_t *clk)
{
	*clk = CCA(a) & C_MONOTONIC ? CLOCK_MONOTONIC : CLOCK_REALTIME;
	return 0;
}

EXPORT int pthread_condattr_setpshared(pthread_condattr_t *a, int p)
{
	if (p != PTHREAD_PROCESS_PRIVATE && p != PTHREAD_PROCESS_SHARED)
		return EINVAL;
	CA(a) = p == PTHREAD_PROCESS_SHARED ? CA(a) | C_PSHARED
					    : CA(a) & ~C_PSHARED;
	return 0;
}

EXPORT int pthread_condattr_getpshared(const pthread_condattr_t *a, int *p)
{
	*p = CCA(a) & C_PSHARED ? PTHREAD_PROCESS_SHARED
				: PTHREAD_PROCESS_PRIVATE;
	return 0;
}
