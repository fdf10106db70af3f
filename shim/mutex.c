/*
 * mutex.c - pthread_mutex_*: mutexes whose waiters park the G, not the OS
 * thread, and robust mutexes whose owner thread or process dies.
 *
 * Why: a lock holder may be parked in I/O while others want the lock.  If
 * waiters blocked their M in a futex, every M could end up blocked and the
 * holder could never run again: a deadlock native threads do not have.
 *
 * Layout: the program's pthread_mutex_t, as glibc's headers lay it out
 * (static initialisers must work with no init call):
 *   __lock   state word: 0 free, 1 held, 2 held and maybe waiters
 *   __count  recursion depth - 1 (recursive type)
 *   __owner  holder's id (shim_self_id), for errorcheck/recursive/robust
 *   __nusers holder's pid (thread ids are only unique within a process)
 *   __elision robust state: M_INCONSISTENT, M_NOTRECOVERABLE
 *   __spins  starvation state of a process-private mutex (S_STARVING,
 *            S_HANDOFF), atomic; see lock_word
 *   __kind   type (0 normal/default, 1 recursive, 2 errorcheck, 3
 *            adaptive, as PTHREAD_*_INITIALIZER_NP set them) | flags,
 *            glibc's bits (K_*: a mutex one glibc process initialised is
 *            valid here and the other way round); -1 after destroy (glibc
 *            does the same: EINVAL afterwards)
 *   __list   robust mutexes: link in the owner G's list of held mutexes
 * Robust *and* process-shared mutexes use glibc's robust layout instead
 * (robust.c's header): owner TID | FUTEX_WAITERS | FUTEX_OWNER_DIED in
 * __lock, glibc's recovery state in __owner, the holding G in __nusers.
 *
 * Locking is Drepper's three-state futex mutex on __lock ("Futexes Are
 * Tricky", mutex 2), with the G wait queue (rt_futex_*) in place of the
 * kernel futex: barging allowed, no lost wake-ups.  Before parking a
 * waiter spins briefly (four probes), but only while every
 * other P is busy (rt_canspin: with one P, or an idle one, the holder is
 * probably not running while we spin).
 *
 * Process-shared mutexes use the kernel futex on the same word: other
 * processes may be plain glibc.  Their waiters sleep in FUTEX_WAIT with
 * the P handed off (wait.c).  PRIO_INHERIT/PROTECT are accepted and
 * reported; green threads have no kernel priority, so they change nothing
 * else.
 *
 * Robust mutexes: whose death is seen, and how:
 *   - a thread of ours, private mutex: each G keeps the robust mutexes it
 *     holds on a list of its own (shim_thread.robust_head, touched only
 *     by that G); when it ends (shim_robust_release_all, from
 *     shim_thread_finish) each becomes M_INCONSISTENT and is unlocked, and
 *     the next locker gets EOWNERDEAD.  Threads of another process cannot
 *     reach a private mutex, so the process's death needs nothing.
 *   - for process-shared ones (robust.c) the lock word follows glibc's
 *     robust protocol, the one the kernel understands: the owner's kernel
 *     TID in the word, FUTEX_OWNER_DIED set by whoever sees the owner
 *     die.  A G has no kernel TID and moves between OS threads, so it
 *     writes the *process's* TID (the pid: the thread-group leader, M0,
 *     which lives until the process ends) and every such mutex held in
 *     the process is linked on one robust list that the kernel walks when
 *     M0 exits or execs: the process's death marks them all, and wakes a
 *     waiter, in whatever process it is (glibc or greenrun).  A G that
 *     ends holding some marks them itself, the same way.  Which G holds
 *     the mutex is kept in __nusers, for EPERM/EDEADLK/recursion.
 *   - another greenrun process, or a plain glibc one: the same word
 *     protocol from its side; its kernel (glibc) or M0 (greenrun) list.
 *   - the child of fork() owns none of the parent's mutexes: the forking
 *     G's list and the process list start empty (shim_mutex_fork_child),
 *     as glibc resets a forked thread's robust list.
 * Rejected for process-shared ones: a per-M list with the M's TID in
 *   the word (a G unlocks on another M than it locked on, so every list
 *   would need a lock taken from any M, for nothing the pid does not
 *   give); PI futexes (the kernel ties the lock to the TID that took it,
 *   and the G may unlock from another OS thread); watching the holder
 *   process with a pidfd (works only between greenrun processes: glibc
 *   waiters would never learn of the death).
 *
 * What guards what: __lock is atomic (acquire on taking, release on
 * leaving; the kernel writes it too for process-shared robust ones);
 * __count, __owner, __nusers, __elision and __list are written only by
 * the holder while it holds the mutex (and by the owner's exit path,
 * which then releases it), read by others only to answer "is it mine?";
 * the process-wide robust list belongs to robust.c under its listlock.
 *
 * Borrowed ideas, our own code: glibc's robust-mutex protocol
 * (nptl/pthread_mutex_lock.c, pthread_mutex_unlock.c,
 * pthread_mutex_consistent.c: FUTEX_WAITERS kept once shared,
 * list_op_pending around each change, PTHREAD_MUTEX_INCONSISTENT /
 * NOTRECOVERABLE in __owner) and the kernel's robust-futex ABI
 * (Documentation/locking/robust-futexes.rst, robust-futex-ABI.rst,
 * set_robust_list(2)).
 *
 * Error numbers follow glibc 2.36: EINVAL (bad type, destroyed mutex, bad
 * timespec when it would block, bad clock), EBUSY (trylock, destroy while
 * locked), EDEADLK (errorcheck relock), EPERM (unlock by a non-owner of an
 * errorcheck/recursive/robust mutex), EAGAIN (recursion count overflow),
 * ETIMEDOUT, EOWNERDEAD / ENOTRECOVERABLE (robust).
 */
#include <errno.h>
#include <limits.h>
#include <unistd.h>

#include "shim.h"

/* __kind bits (ours; the low 2 bits match glibc's static initialisers) */
#define K_TYPE 3
#define K_ROBUST 16
#define K_PRIO_INHERIT 32
#define K_PRIO_PROTECT 64
#define K_PSHARED 128
#define K_CEIL_SHIFT 19

#define M_INCONSISTENT 1u
#define M_NOTRECOVERABLE 2u

/* __spins bits (starvation mode, as Go's sync.Mutex, mutex.go) */
#define S_STARVING 1u /* a waiter has waited over 1 ms: hand the lock over */
#define S_HANDOFF 2u  /* the lock word stays taken for a woken waiter */
#define STARVE_NS 1000000

#define MD(m) (&(m)->__data)
#define ROBUST(m) (MD(m)->__elision)

/* Robust and process-shared: glibc's robust protocol, robust.c. */
static bool rshared(int kind)
{
	return (kind & (K_ROBUST | K_PSHARED)) == (K_ROBUST | K_PSHARED);
}

/* Is the calling thread the holder?  The holder's pid must match too:
 * thread ids are per process, and a mutex in shared memory may be used
 * across fork even without PTHREAD_PROCESS_SHARED (glibc's tids are
 * unique system-wide, so that works natively). */
static bool held_by_me(const pthread_mutex_t *m)
{
	if (rshared(MD(m)->__kind))
		return shim_rmutex_held(m);
	/* owner first, then pid: set_owner stores them the other way */
	return __atomic_load_n(&MD(m)->__owner, __ATOMIC_ACQUIRE) ==
		       shim_self_id() &&
	       __atomic_load_n(&MD(m)->__nusers, __ATOMIC_RELAXED) ==
		       (unsigned)shim_pid;
}

/* The pid before the thread id, so a thread of another process that
 * looks (held_by_me, on a process-shared mutex) never sees its own id
 * beside its own pid left by the previous holder: with the opposite
 * order, a child's main thread (id 1, as the parent's) locking a mutex
 * the parent had just released made the parent's errorcheck lock fail
 * with EDEADLK (Open POSIX pthread_cond_destroy/2-1, PROCS=1). */
static void set_owner(pthread_mutex_t *m)
{
	__atomic_store_n(&MD(m)->__nusers, (unsigned)shim_pid,
			 __ATOMIC_RELAXED);
	__atomic_store_n(&MD(m)->__owner, shim_self_id(), __ATOMIC_RELEASE);
}

/* ---- the lock word ------------------------------------------------------ */

static bool pshared(const pthread_mutex_t *m)
{
	return MD(m)->__kind & K_PSHARED;
}

/* Acquire the lock word.  deadline: -1 none, else monotonic ns; ts is
 * the caller's timespec, checked only when we must block (POSIX). */
static int lock_word(pthread_mutex_t *m, int64_t deadline,
		     const struct timespec *ts)
{
	uint32_t *w = (uint32_t *)&MD(m)->__lock;
	uint32_t zero = 0;
	if (__atomic_compare_exchange_n(w, &zero, 1u, false, __ATOMIC_ACQUIRE,
					__ATOMIC_RELAXED))
		return 0;
	if (ts && !shim_ts_valid_nsec(ts))
		return EINVAL;
	if (rt_canspin()) {
		/* Four probes, 30 pauses apart (Go's active_spin and
		 * active_spin_cnt, ~3 us here): each probe pulls the line
		 * from the holder's CPU, so few probes let the holder run a
		 * stretch of critical sections in its own cache.  A
		 * lock+unlock with 4 threads on 2 Ps (bench/mutex.c, medians
		 * of 8 interleaved runs): a probe after every pause 33 ns,
		 * after 1, 2, 4 ... 128 pauses 23 ns, after 4 ... 128 15 ns,
		 * this 10 ns; native 20 ns. */
		for (int i = 0; i < 4; i++) {
			for (int k = 0; k < 30; k++)
				__builtin_ia32_pause();
			zero = 0;
			if (__atomic_load_n(w, __ATOMIC_RELAXED) == 0 &&
			    __atomic_compare_exchange_n(w, &zero, 1u, false,
							__ATOMIC_ACQUIRE,
							__ATOMIC_RELAXED))
				return 0;
		}
	}
	/* Starvation mode (private mutexes; Go's sync.Mutex, mutex.go):
	 * running threads take a free lock ahead of a woken waiter, so two
	 * threads re-locking in a loop kept a third waiting for up to 1.3 s.
	 * A waiter that has waited over 1 ms sets S_STARVING; the next
	 * unlock then leaves the word taken, sets S_HANDOFF and wakes the
	 * first waiter, and whichever waiter clears S_HANDOFF owns the
	 * lock (newcomers find the word taken and queue up behind).  A
	 * waiter woken before that lost the lock again waits at the front
	 * of the queue: without it, it lost every time to a thread that had
	 * queued meanwhile (the hand-over went to that one). */
	uint16_t *s = (uint16_t *)&MD(m)->__spins;
	bool priv = !pshared(m);
	int64_t since = 0;
	bool again = false;
	while (__atomic_exchange_n(w, 2u, __ATOMIC_ACQUIRE) != 0) {
		if (priv) {
			int64_t now = rt_nanotime();
			if (!since)
				since = now;
			else if (now - since > STARVE_NS)
				__atomic_or_fetch(s, S_STARVING, __ATOMIC_RELAXED);
		}
		/* woken before and lost the lock again: wait at the front,
		 * so the next hand-over is ours (Go's semacquire lifo) */
		struct rt_g *g = rt_getg();
		if (g)
			g->waitfront = priv && again;
		int e = shim_wait_word_lock(w, 2, deadline, !priv, WAIT_MUTEX);
		if (g)
			g->waitfront = false;
		again = true;
		if (priv && (__atomic_load_n(s, __ATOMIC_ACQUIRE) & S_HANDOFF) &&
		    (__atomic_fetch_and(s, (uint16_t)~(S_HANDOFF | S_STARVING),
					__ATOMIC_ACQUIRE) &
		     S_HANDOFF))
			return 0; /* handed over: the word stays 2 */
		if (e == ETIMEDOUT) {
			/* one last try: the lock may just have been freed */
			if (__atomic_exchange_n(w, 2u, __ATOMIC_ACQUIRE) == 0)
				return 0;
			return ETIMEDOUT;
		}
	}
	return 0;
}

static void unlock_word(pthread_mutex_t *m)
{
	uint32_t *w = (uint32_t *)&MD(m)->__lock;
	uint16_t *s = (uint16_t *)&MD(m)->__spins;
	if (__builtin_expect(__atomic_load_n(s, __ATOMIC_RELAXED) & S_STARVING,
			     0) &&
	    !pshared(m)) {
		/* hand over: the word stays taken (2) */
		__atomic_or_fetch(s, S_HANDOFF, __ATOMIC_RELEASE);
		if (rt_futex_wake((uint32_t *)w, 1) > 0)
			return;
		/* nobody waits: take the hand-over back, unless a waiter
		 * returning on its own claimed it (then it owns the lock) */
		if (!(__atomic_fetch_and(s, (uint16_t)~(S_HANDOFF | S_STARVING),
					 __ATOMIC_ACQ_REL) &
		      S_HANDOFF))
			return;
	}
	if (__atomic_exchange_n(w, 0u, __ATOMIC_RELEASE) == 2)
		shim_wake_word(w, 1, pshared(m));
}

/* ---- robust bookkeeping --------------------------------------------------- */

static void robust_add(pthread_mutex_t *m)
{
	struct shim_thread *st = shim_self();
	MD(m)->__list.__prev = NULL;
	MD(m)->__list.__next = st->robust_head;
	if (st->robust_head)
		st->robust_head->__prev = &MD(m)->__list;
	st->robust_head = &MD(m)->__list;
}

static void robust_del(pthread_mutex_t *m)
{
	struct shim_thread *st = shim_self();
	__pthread_list_t *l = &MD(m)->__list;
	if (l->__prev)
		l->__prev->__next = l->__next;
	else if (st->robust_head == l)
		st->robust_head = l->__next;
	if (l->__next)
		l->__next->__prev = l->__prev;
	l->__prev = l->__next = NULL;
}

/* Thread exit, on the ending G: every robust mutex it still holds
 * becomes "owner died". */
void shim_robust_release_all(struct shim_thread *st)
{
	shim_rmutex_release_all();
	while (st->robust_head) {
		__pthread_list_t *l = st->robust_head;
		pthread_mutex_t *m = (pthread_mutex_t *)((char *)l -
			offsetof(struct __pthread_mutex_s, __list));
		st->robust_head = l->__next;
		l->__prev = l->__next = NULL;
		ROBUST(m) |= M_INCONSISTENT;
		MD(m)->__owner = 0;
		MD(m)->__count = 0;
		unlock_word(m);
	}
}

/* In the child of fork(): the forking G holds none of the robust mutexes
 * its parent twin held (their words name the parent), so ending it must
 * not release them; the child's kernel robust list starts empty too. */
void shim_mutex_fork_child(void)
{
	shim_self()->robust_head = NULL;
	shim_self()->rshared_held = 0;
	shim_robust_fork_child();
}

/* ---- pthread_mutex_* ------------------------------------------------------ */

EXPORT int pthread_mutex_init(pthread_mutex_t *m, const pthread_mutexattr_t *a)
{
	int kind = a ? shim_mutexattr_kind(a) : 0;
	/* glibc has no robust priority-protection mutex */
	if ((kind & K_ROBUST) && (kind & K_PRIO_PROTECT))
		return ENOTSUP;
	memset(m, 0, sizeof *m);
	MD(m)->__kind = kind;
	return 0;
}

EXPORT int pthread_mutex_destroy(pthread_mutex_t *m)
{
	if (MD(m)->__kind < 0)
		return EINVAL;
	if (__atomic_load_n(&MD(m)->__lock, __ATOMIC_RELAXED) != 0 &&
	    !(MD(m)->__kind & K_ROBUST))
		return EBUSY;
	MD(m)->__kind = -1;
	return 0;
}

static int lock_common(pthread_mutex_t *m, int64_t deadline,
		       const struct timespec *ts, bool try)
{
	shim_check();
	shim_preempt_point();
	int kind = MD(m)->__kind;
	if (kind < 0)
		return EINVAL;
	int type = kind & K_TYPE;
	if ((kind & K_ROBUST) &&
	    (rshared(kind) ? shim_rmutex_notrecoverable(m)
			   : (ROBUST(m) & M_NOTRECOVERABLE)))
		return ENOTRECOVERABLE;
	if (type == PTHREAD_MUTEX_RECURSIVE && held_by_me(m)) {
		if (MD(m)->__count == UINT_MAX)
			return EAGAIN;
		MD(m)->__count++;
		return 0;
	}
	/* glibc: trylock by the owner is EBUSY, but EDEADLK for a robust,
	 * priority-inheritance or -protection errorcheck mutex (their own
	 * code paths) */
	if (type == PTHREAD_MUTEX_ERRORCHECK && held_by_me(m))
		return try && !(kind & (K_ROBUST | K_PRIO_INHERIT |
					K_PRIO_PROTECT))
			       ? EBUSY
			       : EDEADLK;
	if (rshared(kind))
		return shim_rmutex_lock(m, deadline, ts, try);
	int e;
	if (try) {
		uint32_t zero = 0;
		e = __atomic_compare_exchange_n((uint32_t *)&MD(m)->__lock,
						&zero, 1u, false,
						__ATOMIC_ACQUIRE,
						__ATOMIC_RELAXED)
			? 0
			: EBUSY;
	} else {
		e = lock_word(m, deadline, ts);
	}
	if (e)
		return e;
	set_owner(m);
	MD(m)->__count = 0;
	if (kind & K_ROBUST) {
		if (ROBUST(m) & M_NOTRECOVERABLE) {
			MD(m)->__owner = 0;
			unlock_word(m);
			return ENOTRECOVERABLE;
		}
		robust_add(m);
		if (ROBUST(m) & M_INCONSISTENT)
			return EOWNERDEAD;
	}
	return 0;
}

EXPORT int pthread_mutex_lock(pthread_mutex_t *m)
{
	/* Fast path: a free default mutex (kind 0: normal, private, not
	 * robust), the common case, without lock_common's checks. */
	if (__builtin_expect(rt_started() && MD(m)->__kind == 0, 1)) {
		shim_preempt_point();
		uint32_t zero = 0;
		if (__atomic_compare_exchange_n((uint32_t *)&MD(m)->__lock,
						&zero, 1u, false,
						__ATOMIC_ACQUIRE,
						__ATOMIC_RELAXED)) {
			set_owner(m);
			MD(m)->__count = 0;
			return 0;
		}
	}
	return lock_common(m, -1, NULL, false);
}

EXPORT int pthread_mutex_trylock(pthread_mutex_t *m)
{
	return lock_common(m, -1, NULL, true);
}

EXPORT int pthread_mutex_clocklock(pthread_mutex_t *m, clockid_t clk,
				   const struct timespec *abs)
{
	if (clk != CLOCK_REALTIME && clk != CLOCK_MONOTONIC)
		return EINVAL;
	int64_t dl = shim_ts_valid_nsec(abs) ? shim_abs_to_mono(clk, abs) : 0;
	return lock_common(m, dl, abs, false);
}

EXPORT int pthread_mutex_timedlock(pthread_mutex_t *m,
				   const struct timespec *abs)
{
	return pthread_mutex_clocklock(m, CLOCK_REALTIME, abs);
}

EXPORT int pthread_mutex_unlock(pthread_mutex_t *m)
{
	shim_check();
	int kind = MD(m)->__kind;
	if (__builtin_expect(kind == 0, 1)) { /* default mutex: no checks */
		MD(m)->__owner = 0;
		unlock_word(m);
		shim_preempt_point();
		return 0;
	}
	if (kind < 0)
		return EINVAL;
	int type = kind & K_TYPE;
	bool checked = type == PTHREAD_MUTEX_RECURSIVE ||
		       type == PTHREAD_MUTEX_ERRORCHECK || (kind & K_ROBUST);
	if (checked) {
		if (!held_by_me(m) ||
		    __atomic_load_n(&MD(m)->__lock, __ATOMIC_RELAXED) == 0)
			return EPERM;
		if (type == PTHREAD_MUTEX_RECURSIVE && MD(m)->__count > 0) {
			MD(m)->__count--;
			return 0;
		}
	}
	if (rshared(kind)) {
		shim_rmutex_unlock(m);
		return 0;
	}
	if (kind & K_ROBUST) {
		robust_del(m);
		/* unlocked while inconsistent: nobody can use it again */
		if (ROBUST(m) & M_INCONSISTENT)
			ROBUST(m) = M_NOTRECOVERABLE;
	}
	MD(m)->__owner = 0;
	unlock_word(m);
	shim_preempt_point();
	return 0;
}

EXPORT int pthread_mutex_consistent(pthread_mutex_t *m)
{
	if (rshared(MD(m)->__kind))
		return shim_rmutex_consistent(m);
	if (!(MD(m)->__kind & K_ROBUST) || !(ROBUST(m) & M_INCONSISTENT) ||
	    !held_by_me(m))
		return EINVAL;
	ROBUST(m) &= ~M_INCONSISTENT;
	return 0;
}

/* Old name; glibc's header redirects it, old binaries import it. */
EXPORT int shim_mutex_consistent_np(pthread_mutex_t *m)
    __asm__("pthread_mutex_consistent_np");
int shim_mutex_consistent_np(pthread_mutex_t *m)
{
	return pthread_mutex_consistent(m);
}

EXPORT int pthread_mutex_getprioceiling(const pthread_mutex_t *m, int *c)
{
	if (!(MD(m)->__kind & K_PRIO_PROTECT))
		return EINVAL;
	*c = (MD(m)->__kind >> K_CEIL_SHIFT) & 0xfff;
	return 0;
}

EXPORT int pthread_mutex_setprioceiling(pthread_mutex_t *m, int c, int *old)
{
	if (!(MD(m)->__kind & K_PRIO_PROTECT) || c < sched_get_priority_min(SCHED_FIFO) ||
	    c > sched_get_priority_max(SCHED_FIFO))
		return EINVAL;
	int e = pthread_mutex_lock(m);
	if (e)
		return e;
	*old = (MD(m)->__kind >> K_CEIL_SHIFT) & 0xfff;
	MD(m)->__kind = (MD(m)->__kind & ~(0xfff << K_CEIL_SHIFT)) |
			(c << K_CEIL_SHIFT);
	return pthread_mutex_unlock(m);
}

/* Used by cond.c: release / re-take around a wait, keeping the caller's
 * recursion depth.  Returns EPERM when the caller does not own m. */
int shim_mutex_release(pthread_mutex_t *m, unsigned *depth)
{
	int kind = MD(m)->__kind;
	if (kind < 0)
		return EINVAL;
	int type = kind & K_TYPE;
	if ((type != PTHREAD_MUTEX_NORMAL || (kind & K_ROBUST)) &&
	    !held_by_me(m))
		return EPERM;
	*depth = MD(m)->__count;
	MD(m)->__count = 0;
	if (rshared(kind)) {
		/* as glibc: released while inconsistent, it is lost */
		shim_rmutex_unlock(m);
		return 0;
	}
	if (kind & K_ROBUST)
		robust_del(m);
	MD(m)->__owner = 0;
	unlock_word(m);
	return 0;
}

int shim_mutex_reacquire(pthread_mutex_t *m, unsigned depth)
{
	if (rshared(MD(m)->__kind)) {
		int e = shim_rmutex_lock(m, -1, NULL, false);
		if (e == 0 || e == EOWNERDEAD)
			MD(m)->__count = depth;
		return e;
	}
	int e = lock_word(m, -1, NULL);
	if (e)
		return e;
	set_owner(m);
	MD(m)->__count = depth;
	if (MD(m)->__kind & K_ROBUST) {
		robust_add(m);
		if (ROBUST(m) & M_INCONSISTENT)
			return EOWNERDEAD;
	}
	return 0;
}
