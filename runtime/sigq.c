/*
 * sigq.c - the pool of queued signal instances (sig.c's queues).
 *
 * Linux queues every instance of a real-time signal with its own siginfo
 * (sigqueue's value), in order; a standard signal has at most one pending
 * instance, whose siginfo is the first one's.  sig.c keeps those queues
 * per G and for the process; this file owns their entries.
 *
 * Entries come from one fixed pool, mapped once (rt_sigq_init, G context:
 * rt_sig_enable and the senders call it) and never freed: the trampoline
 * takes entries in signal-handler context, where neither malloc nor a
 * lock that the interrupted code may hold is allowed.  Hence:
 *
 *   - the free entries form a Treiber stack whose top word carries a
 *     generation tag beside the index (tag << 32 | index), so a pop that
 *     read a stale "next" fails its compare-and-swap instead of corrupting
 *     the stack (ABA); entries never handed out yet are taken by a bump
 *     counter, so the pool costs no memory until signals queue up;
 *   - the trampoline hands entries over through the inbox, another
 *     Treiber stack (push only; a consumer holding siglock takes it whole
 *     with one exchange and reverses it into arrival order), so it never
 *     takes siglock;
 *   - everything else (the per-G and process queues, rt_sigq_append/
 *     take/has/merge) is guarded by sig.c's siglock.
 *
 * An entry's `next` links it on whichever of the three lists holds it (it
 * is on one at a time); it is accessed with relaxed atomics because a pop
 * of the free stack may read it after another thread took the entry (the
 * tag then fails the exchange).
 *
 * Capacity: the RLIMIT_SIGPENDING soft limit when the pool is mapped
 * (sysconf(_SC_SIGQUEUE_MAX) reports the same), at most RT_SIGQ_MAX.
 * Natively the limit counts a user's pending signals across processes;
 * here it counts this process's queued instances only (the kernel's own
 * count sees none of them: the trampoline took them out of the kernel).
 * A full pool makes sig.c return EAGAIN to sigqueue() & co. for a
 * real-time signal and queue a standard one (or kill()'s SI_USER) without
 * its siginfo, as the kernel does.  The mapping is MAP_NORESERVE: only
 * the entries in use ever become resident.
 */
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "atomic.h"
#include "internal.h"
#include "sys.h"

#define RT_SIGQ_MAX (1u << 20) /* entries; ~136 MiB of address space */

static struct rt_sigent *pool; /* atomic: set once; pool[0] unused */
static uint32_t cap;           /* immutable once pool is set (set first) */
static uint32_t bumped;        /* atomic: entries 1..bumped were handed out */
static uint64_t freetop;       /* atomic: free stack, tag << 32 | index */
static uint32_t inbox;         /* atomic: the trampoline's hand-over stack */

void rt_sigq_init(void)
{
	if (rt_load(&pool))
		return;
	struct rlimit rl = {RLIM_INFINITY, RLIM_INFINITY};
	rt_syscall4(SYS_prlimit64, 0, RLIMIT_SIGPENDING, NULL, &rl);
	uint32_t n = rl.rlim_cur > RT_SIGQ_MAX ? RT_SIGQ_MAX
						: (uint32_t)rl.rlim_cur;
	long a = rt_syscall6(SYS_mmap, 0,
			     (long)((n + 1ul) * sizeof(struct rt_sigent)),
			     PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (a < 0 && a > -4096)
		rt_throw("cannot map the signal queue pool");
	/* two first users race: one mapping wins, the other goes back */
	static rt_mutex initlock;
	rt_lock(&initlock);
	if (!rt_load(&pool)) {
		cap = n;
		rt_store(&pool, (struct rt_sigent *)a); /* after cap */
		a = 0;
	}
	rt_unlock(&initlock);
	if (a)
		rt_syscall2(SYS_munmap, a, (n + 1ul) * sizeof(struct rt_sigent));
}

uint32_t rt_sigq_cap(void) { return rt_load(&pool) ? cap : 0; }

struct rt_sigent *rt_sigq_ent(uint32_t i) { return &pool[i]; }

uint32_t rt_sigq_next(uint32_t i) { return rt_load_relaxed(&pool[i].next); }

static void set_next(uint32_t i, uint32_t n)
{
	rt_store_relaxed(&pool[i].next, n);
}

/* Async-signal-safe, lock-free. */
static uint32_t pool_get(void)
{
	if (!rt_load(&pool))
		return 0; /* nobody queued anything yet: sig.c records the
			     signal without its siginfo */
	uint64_t top = rt_load(&freetop);
	for (;;) {
		uint32_t i = (uint32_t)top;
		if (!i)
			break;
		uint64_t n = ((top >> 32) + 1) << 32 | rt_sigq_next(i);
		/* on failure top is reloaded: retry */
		if (__atomic_compare_exchange_n(&freetop, &top, n, false,
						__ATOMIC_SEQ_CST,
						__ATOMIC_SEQ_CST))
			return i;
	}
	uint32_t b = rt_load(&bumped);
	while (b < cap)
		if (__atomic_compare_exchange_n(&bumped, &b, b + 1, false,
						__ATOMIC_SEQ_CST,
						__ATOMIC_SEQ_CST))
			return b + 1;
	return 0;
}

uint32_t rt_sigq_new(int sig, const siginfo_t *si)
{
	uint32_t i = pool_get();
	if (!i)
		return 0;
	struct rt_sigent *e = &pool[i];
	e->proc = e->fresh = false;
	e->g = NULL;
	if (si)
		e->si = *si;
	else
		rt_sigq_default_info(&e->si, sig, SI_TKILL);
	e->si.si_signo = sig;
	set_next(i, 0);
	return i;
}

void rt_sigq_default_info(siginfo_t *si, int sig, int code)
{
	memset(si, 0, sizeof *si);
	si->si_signo = sig;
	si->si_code = code;
	if (code == SI_TKILL) { /* pthread_kill & co. from this process */
		si->si_pid = (pid_t)rt_syscall0(SYS_getpid);
		si->si_uid = (uid_t)rt_syscall0(SYS_getuid);
	}
}

void rt_sigq_free(uint32_t i)
{
	if (!i)
		return;
	uint64_t top = rt_load(&freetop);
	do
		set_next(i, (uint32_t)top);
	while (!__atomic_compare_exchange_n(&freetop, &top,
					    ((top >> 32) + 1) << 32 | i, false,
					    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST));
}

void rt_sigq_inbox_push(uint32_t i)
{
	uint32_t top = rt_load(&inbox);
	do
		set_next(i, top);
	while (!__atomic_compare_exchange_n(&inbox, &top, i, false,
					    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST));
}

bool rt_sigq_inbox_empty(void) { return rt_load(&inbox) == 0; }

uint32_t rt_sigq_inbox_take(void)
{
	uint32_t i = rt_xchg(&inbox, 0u), fifo = 0;
	while (i) { /* newest first: reverse into arrival order */
		uint32_t n = rt_sigq_next(i);
		set_next(i, fifo);
		fifo = i;
		i = n;
	}
	return fifo;
}

/* ---- queues (siglock held) ---------------------------------------------- */

void rt_sigq_append(struct rt_sigq *q, uint32_t i)
{
	set_next(i, 0);
	if (q->tail)
		set_next(q->tail, i);
	else
		q->head = i;
	q->tail = i;
}

uint32_t rt_sigq_take(struct rt_sigq *q, int sig, bool *more)
{
	uint32_t prev = 0, i = q->head;
	while (i && pool[i].si.si_signo != sig) {
		prev = i;
		i = rt_sigq_next(i);
	}
	*more = false;
	if (!i)
		return 0;
	uint32_t n = rt_sigq_next(i);
	if (prev)
		set_next(prev, n);
	else
		q->head = n;
	if (q->tail == i)
		q->tail = prev;
	for (uint32_t j = n; j; j = rt_sigq_next(j))
		if (pool[j].si.si_signo == sig) {
			*more = true;
			break;
		}
	set_next(i, 0);
	return i;
}

bool rt_sigq_has(const struct rt_sigq *q, int sig)
{
	for (uint32_t j = q->head; j; j = rt_sigq_next(j))
		if (pool[j].si.si_signo == sig)
			return true;
	return false;
}

/* Does the instance i merge with one queued on q already?  A standard
 * signal has one pending instance at most (the first keeps its siginfo),
 * and a POSIX timer's expiry does not queue behind one of the same timer
 * (the kernel counts an overrun instead). */
static bool merges(const struct rt_sigq *q, uint32_t i)
{
	const siginfo_t *si = &pool[i].si;
	int sig = si->si_signo;
	bool timer = si->si_code == SI_TIMER;
	if (sig < 32 || timer)
		for (uint32_t j = q->head; j; j = rt_sigq_next(j)) {
			const siginfo_t *o = &pool[j].si;
			if (o->si_signo == sig &&
			    (!timer || (o->si_code == SI_TIMER &&
					o->si_timerid == si->si_timerid)))
				return true;
		}
	return false;
}

bool rt_sigq_put(struct rt_sigq *q, uint32_t i)
{
	if (merges(q, i)) {
		rt_sigq_free(i);
		return false;
	}
	rt_sigq_append(q, i);
	return true;
}

void rt_sigq_fork_child(void)
{
	/* the child has no pending signal: every entry is free again */
	rt_store(&bumped, 0u);
	rt_store(&freetop, (uint64_t)0);
	rt_store(&inbox, 0u);
}
