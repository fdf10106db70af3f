/*
 * robust.c - robust process-shared mutexes: the death of the owner
 * *process* is seen, through the kernel's robust-futex list, by this
 * process, other greenrun processes and plain glibc processes alike.
 * mutex.c's header explains why the design looks like this; here is the
 * protocol in detail.
 *
 * The word and the fields (glibc's layout and meanings for robust
 * mutexes, so that one mutex can be shared with glibc processes; see
 * glibc nptl/pthread_mutex_lock.c and the kernel's
 * Documentation/locking/robust-futex-ABI.rst for the protocol we follow;
 * the code is ours):
 *   __lock   0 free; else the owner's kernel thread id (FUTEX_TID_MASK)
 *            | FUTEX_WAITERS (someone may sleep in FUTEX_WAIT on it)
 *            | FUTEX_OWNER_DIED (the kernel, or we, saw the owner die).
 *            A greenrun owner writes its *pid*: the thread id of the
 *            thread-group leader, our M0 (see below).
 *   __owner  glibc's recovery state: the holder's id while consistent,
 *            RP_INCONSISTENT from EOWNERDEAD until pthread_mutex_consistent,
 *            RP_NOTRECOVERABLE for good after an unlock while inconsistent
 *            (glibc and we both check it after taking the word).
 *   __nusers the holding G (shim_self_id) when the holder is one of our
 *            Gs: the word names only the process.  glibc counts users in
 *            it; only the holder reads or writes it, either way.
 *   __count  recursion depth - 1 (glibc keeps the depth; only the holder
 *            uses it, and each side sets it when it takes the word).
 *   __list   __next: the node of our process's robust list (the kernel
 *            adds futex_offset to the node's address to find __lock);
 *            __prev: our back link, for O(1) unlinking.
 * Written only by the holder, except __lock (atomic: waiters set
 * FUTEX_WAITERS, the kernel sets FUTEX_OWNER_DIED).
 *
 * The process's robust list ("the list"): one struct robust_list_head for
 * the whole process, registered with set_robust_list(2) on M0, the OS
 * thread that is the thread-group leader, so its thread id is our pid.
 * Every robust process-shared mutex held by any of our Gs is linked on
 * it, whatever M the G runs on.  When the process ends (exit, a fatal
 * signal, or exec: the kernel walks a thread's list at exit and at exec,
 * and exec from another thread first kills M0), the kernel walks the list
 * as M0 dies; every word whose thread id is our pid gets FUTEX_OWNER_DIED
 * (FUTEX_WAITERS kept) and one waiter is woken.  M0 lives as long as the
 * process: greenrun never ends an M, and when main calls pthread_exit
 * only G1 ends, M0 goes on scheduling (thread.c, proc.c).  Replacing the
 * list glibc registered for the main thread loses nothing: glibc's own
 * robust-mutex code never runs under greenrun (we interpose it all).
 *
 * listlock guards the list and its list_op_pending slot.  Each operation
 * runs whole under it: set list_op_pending to the mutex, change the word,
 * link or unlink, clear list_op_pending.  So if the process dies half-way
 * the kernel still finds the mutex (in the list, or pending) and the
 * slot is never wanted by two Gs at once.  A G never waits (parks or
 * sleeps in FUTEX_WAIT on a mutex) with listlock held: it is held for a
 * few instructions and at most one FUTEX_WAKE, inside libgreenrun where
 * preemption never stops a G.  Nodes are published with release stores
 * and an unlinked node keeps its stale __next, so a kernel walk racing
 * with an operation on another M (the process dying meanwhile) never
 * loses the rest of the list.
 *
 * A G that ends holding such mutexes (shim_rmutex_release_all, from
 * thread exit) does for them what the kernel does at process death:
 * FUTEX_OWNER_DIED on the word, unlink, wake one waiter.
 *
 * fork: the child is a new process that owns none of them: it starts
 * with an empty list and registers it on its only thread (its leader).
 * vfork and posix_spawn children have no robust list (the kernel clears
 * it at clone and glibc does not register one for them).
 *
 * Limits: the kernel walks at most ROBUST_LIST_LIMIT (2048) nodes of a
 * list, so a process dying with more robust process-shared mutexes held
 * marks only the first 2048 (natively the limit is per thread).  When
 * the process dies, a mutex another M takes after M0's walk is left
 * unmarked (the other Ms get SIGKILL at the same moment, but may run on
 * for microseconds; natively each thread walks its own list).  If the
 * library started on a thread that is not the leader (never seen), the
 * list is not registered and only thread deaths are reported.
 */
#include <limits.h>
#include <linux/futex.h>
#include <stddef.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "shim.h"
#include "sys.h"

#define RP_INCONSISTENT INT_MAX           /* glibc: PTHREAD_MUTEX_INCONSISTENT */
#define RP_NOTRECOVERABLE (INT_MAX - 1)   /* glibc: PTHREAD_MUTEX_NOTRECOVERABLE */

#define MD(m) (&(m)->__data)
#define NODE_OFF offsetof(pthread_mutex_t, __data.__list.__next)

/* The list; see the header.  Guarded by listlock; read by the kernel at
 * any time once registered. */
static struct robust_list_head head = {
	.list = {&head.list},
	.futex_offset = (long)offsetof(pthread_mutex_t, __data.__lock) -
			(long)NODE_OFF,
};
static uint32_t listlock;

static uint32_t *word(pthread_mutex_t *m)
{
	return (uint32_t *)&MD(m)->__lock;
}

static struct robust_list *node(pthread_mutex_t *m)
{
	return (struct robust_list *)(void *)&MD(m)->__list.__next;
}

static pthread_mutex_t *mutex_of(struct robust_list *n)
{
	return (pthread_mutex_t *)(void *)((char *)n - NODE_OFF);
}

/* n's next pointer (the head's, or a mutex's __list.__next). */
static struct robust_list *next_of(struct robust_list *n)
{
	if (n == &head.list)
		return head.list.next;
	return (struct robust_list *)(void *)MD(mutex_of(n))->__list.__next;
}

/* Release store: the kernel may walk the list from another CPU. */
static void set_next(struct robust_list *n, struct robust_list *v)
{
	if (n == &head.list)
		__atomic_store_n(&head.list.next, v, __ATOMIC_RELEASE);
	else
		__atomic_store_n(&MD(mutex_of(n))->__list.__next,
				 (__pthread_list_t *)(void *)v,
				 __ATOMIC_RELEASE);
}

static void set_pending(pthread_mutex_t *m)
{
	/* before the word changes / after the list is right again; the
	 * kernel reads it only once this thread group is dying */
	__atomic_store_n(&head.list_op_pending, m ? node(m) : NULL,
			 __ATOMIC_SEQ_CST);
}

/* listlock held.  Push m at the front; published last. */
static void link_node(pthread_mutex_t *m)
{
	struct robust_list *first = head.list.next;
	MD(m)->__list.__next = (__pthread_list_t *)(void *)first;
	MD(m)->__list.__prev = (__pthread_list_t *)(void *)&head.list;
	if (first != &head.list)
		MD(mutex_of(first))->__list.__prev =
		    (__pthread_list_t *)(void *)node(m);
	set_next(&head.list, node(m));
}

/* listlock held.  m's own __next is left as it was (see the header). */
static void unlink_node(pthread_mutex_t *m)
{
	struct robust_list *prev =
	    (struct robust_list *)(void *)MD(m)->__list.__prev;
	struct robust_list *next = next_of(node(m));
	set_next(prev, next);
	if (next != &head.list)
		MD(mutex_of(next))->__list.__prev =
		    (__pthread_list_t *)(void *)prev;
	MD(m)->__list.__prev = NULL;
}

static void wake_one(pthread_mutex_t *m)
{
	/* the kernel's own wake at a death is a shared-futex wake, and
	 * glibc waits with shared futexes on robust mutexes: so do we */
	shim_wake_word(word(m), 1, true);
}

/* ---- taking and leaving the word ------------------------------------------ */

/* One attempt to take m.  assume: FUTEX_WAITERS once we may have slept
 * on the word (other sleepers may rely on the bit we would clear).
 * Returns 0 or EOWNERDEAD (taken), ENOTRECOVERABLE, or EBUSY with the
 * word seen in *seen. */
static int attempt(pthread_mutex_t *m, uint32_t assume, uint32_t *seen)
{
	uint32_t *w = word(m);
	uint32_t me = (uint32_t)shim_pid;
	int e = EBUSY;
	shim_ilock(&listlock, false);
	set_pending(m);
	uint32_t cur = __atomic_load_n(w, __ATOMIC_RELAXED);
	for (;;) {
		uint32_t want;
		if (cur == 0)
			want = me | assume;
		else if (cur & FUTEX_OWNER_DIED)
			want = me | (cur & FUTEX_WAITERS) | assume;
		else
			break;
		/* acquire: pairs with the release of the last unlock */
		if (__atomic_compare_exchange_n(w, &cur, want, false,
						__ATOMIC_ACQUIRE,
						__ATOMIC_RELAXED)) {
			e = cur ? EOWNERDEAD : 0;
			break;
		}
	}
	if (e == 0 && MD(m)->__owner == RP_NOTRECOVERABLE) {
		/* taken, but nobody may use it any more: give it back and
		 * pass the wake-up on, as glibc does */
		if (__atomic_exchange_n(w, 0u, __ATOMIC_RELEASE) &
		    FUTEX_WAITERS)
			wake_one(m);
		e = ENOTRECOVERABLE;
	} else if (e != EBUSY) {
		MD(m)->__count = 0;
		MD(m)->__nusers = (unsigned)shim_self_id();
		MD(m)->__owner = e ? RP_INCONSISTENT : shim_self_id();
		link_node(m);
		shim_self()->rshared_held++;
	}
	set_pending(NULL);
	shim_iunlock(&listlock, false);
	*seen = cur;
	return e;
}

/* Take m for the calling G (the caller handled recursion and
 * EDEADLK).  deadline: -1 none, else monotonic ns; ts is checked only
 * when we must block.  Waiters sleep in the kernel futex, like every
 * process-shared wait (wait.c): the waker may be another process or the
 * kernel.  Returns 0, EOWNERDEAD, ENOTRECOVERABLE, EBUSY (try),
 * ETIMEDOUT or EINVAL. */
int shim_rmutex_lock(pthread_mutex_t *m, int64_t deadline,
		     const struct timespec *ts, bool try)
{
	uint32_t *w = word(m);
	uint32_t assume = 0, cur;
	for (;;) {
		int e = attempt(m, assume, &cur);
		if (e != EBUSY || try)
			return e;
		if (ts && !shim_ts_valid_nsec(ts))
			return EINVAL;
		/* tell the holder to wake someone, then sleep on that value */
		if (!(cur & FUTEX_WAITERS)) {
			if (!__atomic_compare_exchange_n(w, &cur,
							 cur | FUTEX_WAITERS,
							 false, __ATOMIC_RELAXED,
							 __ATOMIC_RELAXED))
				continue;
			cur |= FUTEX_WAITERS;
		}
		assume = FUTEX_WAITERS;
		if (shim_wait_word_lock(w, cur, deadline, true, WAIT_MUTEX) ==
		    ETIMEDOUT) {
			/* a last try: the owner may just have left or died,
			 * and its wake-up may have been meant for us; if
			 * we give up, pass a wake-up on (a spurious one is
			 * harmless, a swallowed one strands a sleeper that
			 * cannot poll, such as a glibc process) */
			e = attempt(m, assume, &cur);
			if (e != EBUSY)
				return e;
			wake_one(m);
			return ETIMEDOUT;
		}
	}
}

/* The holder unlocks (the caller checked ownership and recursion). */
void shim_rmutex_unlock(pthread_mutex_t *m)
{
	int owner = MD(m)->__owner == RP_INCONSISTENT ? RP_NOTRECOVERABLE : 0;
	shim_ilock(&listlock, false);
	set_pending(m);
	unlink_node(m);
	MD(m)->__owner = owner;
	MD(m)->__nusers = 0;
	shim_self()->rshared_held--;
	/* release: pairs with the next owner's acquire */
	if (__atomic_exchange_n(word(m), 0u, __ATOMIC_RELEASE) & FUTEX_WAITERS)
		wake_one(m); /* before clearing pending: see glibc's unlock */
	set_pending(NULL);
	shim_iunlock(&listlock, false);
}

bool shim_rmutex_held(const pthread_mutex_t *m)
{
	uint32_t w = __atomic_load_n((const uint32_t *)&MD(m)->__lock,
				     __ATOMIC_RELAXED);
	return (w & FUTEX_TID_MASK) == (uint32_t)shim_pid &&
	       MD(m)->__nusers == (unsigned)shim_self_id();
}

bool shim_rmutex_notrecoverable(const pthread_mutex_t *m)
{
	return MD(m)->__owner == RP_NOTRECOVERABLE;
}

int shim_rmutex_consistent(pthread_mutex_t *m)
{
	if (MD(m)->__owner != RP_INCONSISTENT || !shim_rmutex_held(m))
		return EINVAL;
	MD(m)->__owner = shim_self_id();
	return 0;
}

/* The calling G ends: what the kernel does for a dying process, for the
 * mutexes it holds.  The list is walked only when it holds some: the
 * walk reads every node, and a program may have unmapped the memory of
 * a mutex another thread still holds (harmless natively). */
void shim_rmutex_release_all(void)
{
	struct shim_thread *st = shim_self();
	if (st->rshared_held == 0)
		return;
	st->rshared_held = 0;
	int id = shim_self_id();
	shim_ilock(&listlock, false);
	struct robust_list *n = head.list.next;
	while (n != &head.list) {
		pthread_mutex_t *m = mutex_of(n);
		n = next_of(n);
		if (MD(m)->__nusers != (unsigned)id)
			continue;
		set_pending(m);
		unlink_node(m);
		uint32_t *w = word(m), cur = __atomic_load_n(w, __ATOMIC_RELAXED);
		while (!__atomic_compare_exchange_n(
		    w, &cur, (cur & FUTEX_WAITERS) | FUTEX_OWNER_DIED, false,
		    __ATOMIC_RELEASE, __ATOMIC_RELAXED))
			;
		if (cur & FUTEX_WAITERS)
			wake_one(m);
		set_pending(NULL);
	}
	shim_iunlock(&listlock, false);
}

/* ---- the list and the kernel ---------------------------------------------- */

static void register_list(void)
{
	/* only the leader's death is the process's death */
	if (rt_syscall0(SYS_gettid) != rt_syscall0(SYS_getpid))
		return;
	rt_syscall2(SYS_set_robust_list, &head, sizeof head);
}

/* At start-up, on the main thread (M0). */
void shim_robust_init(void)
{
	register_list();
}

/* In the child of fork(), on its only thread: nothing is ours yet.  (glibc
 * registered the forking thread's own list a moment ago; ours replaces
 * it.)  listlock may have been held by another M at the fork. */
void shim_robust_fork_child(void)
{
	listlock = 0;
	head.list.next = &head.list;
	head.list_op_pending = NULL;
	register_list();
}
