/*
 * sig.c - signal routing between OS threads (Ms) and green threads (Gs).
 *
 * The kernel delivers a signal to an OS thread; a program expects it at a
 * *thread* (a G) that does not block it.  Each G therefore keeps its own
 * software mask (g->sigmask) and pending set (g->sigpending); every M's
 * kernel mask is the same small constant rt_sig_kset (the signals a
 * signalfd reads: they must stay pending in the kernel), so any M may
 * catch any signal.  shim/signal.c installs one trampoline in the kernel
 * for each signal the program handles, blocks or waits for, and calls:
 *
 *   - its handler inline when the G the M is running does not block the
 *     signal and is in program code (the usual case: SIGINT on a busy
 *     thread, SIGALRM, SIGPROF, raise());
 *   - rt_sig_pend_self() when the signal is meant for that G but it is
 *     inside greenrun (runtime locks may be held) or in a system call;
 *   - rt_sig_arrived() otherwise (the M is on its scheduler context, or
 *     the running G blocks the signal): a process-directed signal that
 *     sysmon routes, woken through a futex note (Go's sigsend + the
 *     signal_recv goroutine play the same part, signal_unix.go/sigqueue.go).
 *
 * Routing (rt_sig_dispatch, on sysmon, under siglock), per signal:
 *   1. a G parked in sigwait/sigtimedwait for it gets it;
 *   2. else the first G that does not block it (G1 first, as the kernel
 *      prefers the main thread) has it queued on g->sigq (bit in
 *      g->sigpending) and is interrupted (notify);
 *   3. else it stays process-pending (sigpending() shows it) until a G
 *      unblocks it or waits for it.
 *
 * A G runs its pending handlers in rt_sigcheck(), always in G context and
 * holding no runtime lock: where an interruptible wait returned EINTR
 * (the shim then decides EINTR or restart, as SA_RESTART says), after it
 * unblocks signals, and at the asynchronous entry (preempt.S) when sysmon
 * finds a running G with deliverable signals and kicks its M with the
 * preemption signal.
 *
 * Interrupting a G (rt_sig_notify): a G parked with g->intr set is woken
 * with RT_INTR; the wait it was in cleans up as on a timeout.  Against a G
 * that is about to park, the pair "sender: set pending, then read status"
 * and "parker (park_m): set status WAITING, then read pending" (both
 * sequentially consistent) guarantees one of them sees the other.
 *
 * Queued instances (as Linux): every instance of a real-time signal
 * (32..64) is queued with its own siginfo, and delivered or taken by the
 * sigwait family one at a time, oldest first, lower signal numbers first;
 * a standard signal (1..31) has at most one pending instance per target,
 * with the first instance's siginfo.  The queues: g->sigq per G and pq
 * for the process, entries from sigq.c's fixed pool, all under siglock.
 * The pending bitmasks stay the fast test ("bit set" = at least one
 * instance pending): g->sigpending (atomic, read without the lock by the
 * check points) and ppending.  A bit is cleared when its last queued
 * instance is taken.  A signal that found the pool empty is recorded by
 * its bit alone and delivered with a made-up siginfo (SI_USER), as the
 * kernel does when it is out of queue entries (sigqueue() gets EAGAIN
 * for a real-time signal instead: sigq.c on the capacity).
 *
 * The trampoline may not take siglock itself (the code it interrupted
 * may hold it: rt_sigwait copies siginfos under it), so it pushes its entry on
 * sigq.c's lock-free inbox, tagged with the G it is for (pend_self) or
 * none (arrived), and then sets the bit (pend_self marks an instance the
 * process was sent as proc, like a routed one, so that it goes back to
 * the process if that G ends first): whoever sees the bit and takes
 * siglock finds the entry by draining the inbox (drain()).  A drain
 * never routes: it files an entry for the process on pq marked fresh,
 * and routing (route_fresh: waiter, else a G that accepts it) is done by
 * sysmon (rt_sig_dispatch) or by the sender in G context, so a drain is
 * safe wherever siglock may be taken, handler context included.  Only g
 * itself takes instances off g->sigq; when it clears a bit it looks at
 * the inbox again (a trampoline on its own M may have pushed one in
 * between: push-then-set-bit against clear-bit-then-look).  A handler
 * the trampoline runs inline does take siglock when it returns (through
 * rt_sigmask_set and rt_sigcheck): siglock counts in m->locks, and the
 * trampoline runs nothing inline on an M that holds it (shim/signal.c,
 * inline_ok).
 *
 * A G that ends (rt_sig_gexit) is marked sigexited, so that nothing is
 * routed or sent to it any more (natively exit_signals()); it gives the
 * process-directed instances routed to it back to pq for another G and
 * frees the rest.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "atomic.h"
#include "internal.h"
#include "sys.h"

#define BIT(sig) (1ull << ((sig) - 1))

struct rt_sighooks rt_sighooks;
uint64_t rt_sig_kset;            /* atomic: kept blocked on every M */

static uint64_t incoming;        /* atomic: arrived through the trampoline,
				    for sysmon (a hint: the entries are in
				    the inbox) */
static uint64_t lostinfo;        /* atomic: of those, the ones that found
				    the pool empty (no entry) */
static uint32_t needroute;       /* atomic: fresh instances on pq */
static uint64_t ppending;        /* siglock: process-pending, routed to
				    nobody yet (bit per signal on pq or in
				    pnoinfo); read racily as a hint */
static uint64_t pnoinfo;         /* siglock: process-pending without entry */
static uint64_t pnoinfo_fresh;   /* siglock: of pnoinfo, not yet offered */
static struct rt_sigq pq;        /* siglock: the process's queued instances */
static uint64_t waitmask;        /* atomic: union of the waiters' sets */
static rt_mutex siglock;         /* guards ppending, pq, pnoinfo*, waiters,
				    g->sigq, g->sigwait*, g->sigexited */
static struct rt_g *waiters;     /* Gs in rt_sigwait, via sigwnext */
uint32_t rt_sig_note;            /* sysmon's futex note: 1 = work */

/* siglock, counted in the M's locks while held: the trampoline must not
 * run a handler inline on an M inside it (the handler could come back
 * here through pthread_sigmask and deadlock; the PC test alone misses
 * libc's memcpy/memset called from sig.c).  The G does not switch while
 * holding it, except through rt_park, whose unlock runs on the same M's
 * g0 (unlock_siglock).  Sysmon has no G: nothing to count there. */
static void m_locks(int d)
{
	struct rt_g *g = rt_getg();
	struct rt_m *m = g ? g->m : NULL;
	if (m) /* read by the trampoline on this OS thread only */
		__atomic_store_n(&m->locks, m->locks + d, __ATOMIC_RELAXED);
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
}

static void sig_lock(void)
{
	m_locks(1);
	rt_lock(&siglock);
}

static void sig_unlock(void)
{
	rt_unlock(&siglock);
	m_locks(-1);
}

static uint64_t deliverable(struct rt_g *g)
{
	return rt_load(&g->sigpending) & (~g->sigmask | RT_SIGCANCEL_BIT);
}

bool rt_sig_deliverable(struct rt_g *g) { return deliverable(g) != 0; }

bool rt_sig_pending_self(void) { return deliverable(rt_getg()) != 0; }

static void kick_sysmon(void)
{
	rt_store(&rt_sig_note, 1u);
	rt_futex_wake_os(&rt_sig_note, 1);
}

/* Set when a signal became pending on a running G (notify, pend_self):
 * sysmon then scans the Ms each round (rt_sig_resend_scan) and sends a
 * copy, every ms, to one whose G still has a deliverable signal while
 * blocked in a system call; the flag clears once no running G has one.
 * One copy is not enough: it ends nothing when it lands between
 * rt_entersyscall and the call's own syscall instruction, and a G kicked
 * just before it entered the call is in it by the time it could act. */
static uint32_t resend_active;

void rt_sig_arrived(int sig, const siginfo_t *si)
{
	uint32_t i = rt_sigq_new(sig, si);
	if (i) {
		rt_sigq_ent(i)->g = NULL;
		rt_sigq_inbox_push(i);
	} else {
		rt_or64(&lostinfo, BIT(sig));
	}
	rt_or64(&incoming, BIT(sig)); /* after the push: see drain */
	kick_sysmon();
}

void rt_sig_pend_self(int sig, const siginfo_t *si)
{
	struct rt_g *g = rt_getg();
	/* Only our own tgkill/raise is meant for this very thread; any other
	 * signal was sent to the process and goes back to it if g ends
	 * without taking it. */
	bool proc = !(si && si->si_code == SI_TKILL &&
		      si->si_pid == (pid_t)rt_syscall0(SYS_getpid));
	uint32_t i = rt_sigq_new(sig, si);
	if (i) {
		rt_sigq_ent(i)->g = g;
		rt_sigq_ent(i)->proc = proc;
		rt_sigq_inbox_push(i);
	}
	if (proc)
		rt_or64(&g->sigproc, BIT(sig));
	rt_or64(&g->sigpending, BIT(sig)); /* after the push: see top */
	rt_store(&resend_active, 1u); /* it may be entering a system call */
	kick_sysmon(); /* it kicks the G once it is back in program code */
}

uint64_t rt_sig_waitmask(void) { return rt_load(&waitmask); }

/* Claimed Gs collected while routing, readied after siglock is dropped
 * (sysmon has no P: they go to the global queue). */
struct wakelist {
	struct rt_g *head;
	int n;
};

static void wl_add(struct wakelist *wl, struct rt_g *g)
{
	g->schedlink = wl->head;
	wl->head = g;
	wl->n++;
}

static void wl_flush(struct wakelist *wl)
{
	if (!wl->head)
		return;
	struct rt_g *cg = rt_getg(); /* NULL on sysmon */
	if (cg && cg->m && cg->m->p) {
		for (struct rt_g *g = wl->head, *n; g; g = n) {
			n = g->schedlink;
			rt_ready(g);
		}
	} else {
		rt_injectglist(wl->head, wl->n);
	}
	wl->head = NULL;
	wl->n = 0;
}

/* g blocks its M in a system call greenrun could not turn into a park
 * (rt_entersyscall: open of a FIFO, waitpid, flock...): send sig itself to
 * that OS thread, marked (rt_sig_is_resend), so the kernel ends the call
 * exactly as it would natively: EINTR when the program's handler lacks
 * SA_RESTART (the trampoline mirrors that flag), else the call restarts.
 * The trampoline ignores the marked copy: sig is already pending on g,
 * and the shim's system-call wrapper runs the handler as the call
 * returns.  Race: g may leave the call before the copy arrives; another
 * call blocked on that M then sees what a signal without SA_RESTART does
 * to it natively.  Not for the runtime's own signals (SIGURG, the faults)
 * nor glibc's 32/33, whose kernel dispositions are not the trampoline. */
/* Queue sig to OS thread tid of this process, marked by si_errno and the
 * value (our kicks and copies; the program's own signals carry neither). */
static void queue_to_tid(pid_t tid, int sig, int err, void *val)
{
	siginfo_t si;
	memset(&si, 0, sizeof si);
	si.si_signo = sig;
	si.si_code = SI_QUEUE;
	si.si_errno = err;
	si.si_pid = (pid_t)rt_syscall0(SYS_getpid);
	si.si_value.sival_ptr = val;
	rt_syscall4(SYS_rt_tgsigqueueinfo, si.si_pid, tid, sig, &si);
}

static void resend(struct rt_g *g, struct rt_m *m, int sig)
{
	queue_to_tid(m->tid, sig, RT_RESEND_ERRNO, g);
}


static bool resendable(int sig)
{
	return sig != SIGURG && sig != SIGSEGV && sig != SIGBUS && sig != 32 &&
	       sig != 33;
}

void rt_sig_resend_scan(int64_t now)
{
	if (!rt_load(&resend_active))
		return;
	rt_store(&resend_active, 0u); /* before the scan: see notify */
	bool any = false;
	for (struct rt_m *m = rt_load(&rt_sched.allm); m; m = m->alllink) {
		struct rt_g *g = rt_load(&m->curg);
		if (!g || g->isg0 || !m->tid)
			continue;
		uint64_t d = deliverable(g);
		for (uint64_t left = d; left; left &= left - 1) {
			int sig = __builtin_ctzll(left) + 1;
			if (!resendable(sig))
				continue;
			any = true;
			if (rt_load(&m->oldp) &&
			    now - m->lastresend >= 1000000) {
				m->lastresend = now;
				resend(g, m, sig);
			}
			break;
		}
	}
	if (any)
		rt_store(&resend_active, 1u);
}

bool rt_sig_resend_active(void) { return rt_load(&resend_active) != 0; }

bool rt_sig_is_resend(const siginfo_t *si)
{
	return si->si_code == SI_QUEUE && si->si_errno == RT_RESEND_ERRNO &&
	       si->si_pid == (pid_t)rt_syscall0(SYS_getpid);
}

/* Interrupt g so it notices its pending signal sig soon.  A copy that
 * arrives after g left its system call (the race above) can still end a
 * later call of g with EINTR though no handler runs for it: the shim's
 * wrappers of plain system calls retry such a call (rt_sig_ran). */
static void notify(struct rt_g *g, int sig, struct wakelist *wl)
{
	/* The wait whose WAITING we may read below, not a later one: g may
	 * be woken by its timer, run and start its next wait between our
	 * read of its status and our claim, and a claim of that next wait
	 * while g still runs would ready a running G. */
	uint32_t gen = rt_wake_gen(g);
	uint32_t st = rt_load(&g->status);
	if (st == G_WAITING) {
		if (rt_load(&g->intr) && rt_wake_claim_gen(g, gen, RT_INTR))
			wl_add(wl, g);
	} else if (st == G_RUNNING) {
		struct rt_m *m = rt_load(&g->m);
		if (!m || !m->tid)
			return;
		if (rt_load(&m->oldp) && rt_load(&m->curg) == g &&
		    resendable(sig)) {
			resend(g, m, sig); /* blocked in a system call */
			m->lastresend = rt_nanotime(); /* sysmon's next in
							  1 ms (racy hint) */
		} else
			rt_sig_kick_m(m);
		/* after pending was set: see rt_sig_resend_scan */
		rt_store(&resend_active, 1u);
	}
	/* RUNNABLE: sysmon kicks it once it runs program code again */
}

void rt_sig_kick_m(struct rt_m *m) { rt_sig_kick_tid(m->tid); }

void rt_sig_kick_tid(pid_t tid)
{
	/* our marker: this function's address as the value */
	queue_to_tid(tid, SIGURG, 0, (void *)&rt_sig_kick_m);
}

bool rt_sig_is_kick(const siginfo_t *si)
{
	return si->si_code == SI_QUEUE &&
	       si->si_value.sival_ptr == (void *)&rt_sig_kick_m;
}

/* ---- queues (siglock held) ---------------------------------------------- */

/* Recompute ppending's bit of sig from pq and pnoinfo. */
static void pbit(int sig)
{
	if (rt_sigq_has(&pq, sig) || (pnoinfo & BIT(sig)))
		ppending |= BIT(sig);
	else
		ppending &= ~BIT(sig);
}

/* An instance for the process (entry i, or 0: without siginfo) becomes
 * process-pending, to be offered to the Gs by route_fresh. */
static void pq_add(int sig, uint32_t i)
{
	if (i) {
		struct rt_sigent *e = rt_sigq_ent(i);
		e->proc = true;
		e->fresh = true;
		if (!rt_sigq_put(&pq, i))
			return; /* merged with one pending already */
	} else {
		pnoinfo |= BIT(sig);
		pnoinfo_fresh |= BIT(sig);
	}
	ppending |= BIT(sig);
	rt_store(&needroute, 1u);
}

/* Queue instance i (0: without siginfo) of sig on g and set its bit. */
static void g_add(struct rt_g *g, int sig, uint32_t i)
{
	if (i)
		rt_sigq_put(&g->sigq, i);
	rt_or64(&g->sigpending, BIT(sig));
}

/* Move what the trampoline handed over to its queues.  No routing, no
 * wake-up (instances for the process are left fresh on pq and sysmon is
 * kicked): callable wherever siglock may be taken. */
static void drain(void)
{
	uint64_t lost = rt_load(&lostinfo) ? rt_xchg64(&lostinfo, 0) : 0;
	bool fresh = lost != 0;
	for (uint32_t i = rt_sigq_inbox_take(), n; i; i = n) {
		n = rt_sigq_next(i);
		struct rt_sigent *e = rt_sigq_ent(i);
		struct rt_g *g = e->g;
		int sig = e->si.si_signo;
		e->g = NULL;
		if (g && !g->sigexited) {
			/* its bit was set by the trampoline (e->proc too) */
			rt_sigq_put(&g->sigq, i);
		} else {
			pq_add(sig, i);
			fresh = true;
		}
	}
	for (uint64_t l = lost; l; l &= l - 1)
		pq_add(__builtin_ctzll(l) + 1, 0);
	if (fresh)
		kick_sysmon();
}

/* Take the oldest instance of sig pending on the calling G into *out
 * (a made-up siginfo when it has none) and keep its bit right. */
static void take_own(struct rt_g *g, int sig, siginfo_t *out)
{
	bool more;
	uint32_t i = rt_sigq_take(&g->sigq, sig, &more);
	if (i) {
		*out = rt_sigq_ent(i)->si;
		rt_sigq_free(i);
	} else {
		rt_sigq_default_info(out, sig, SI_USER);
	}
	if (more)
		return;
	rt_and64(&g->sigpending, ~BIT(sig));
	rt_and64(&g->sigproc, ~BIT(sig));
	/* a trampoline on this M may have pushed one and set the bit just
	 * before we cleared it */
	if (!rt_sigq_inbox_empty()) {
		drain();
		if (rt_sigq_has(&g->sigq, sig))
			rt_or64(&g->sigpending, BIT(sig));
	}
}

/* The same from the process queue. */
static void take_proc(int sig, siginfo_t *out)
{
	bool more;
	uint32_t i = rt_sigq_take(&pq, sig, &more);
	if (i) {
		*out = rt_sigq_ent(i)->si;
		rt_sigq_free(i);
	} else {
		rt_sigq_default_info(out, sig, SI_USER);
	}
	if (!more) { /* an instance without siginfo goes with the last */
		pnoinfo &= ~BIT(sig);
		pnoinfo_fresh &= ~BIT(sig);
		ppending &= ~BIT(sig);
	}
}

/* ---- routing (siglock held) --------------------------------------------- */

static void recompute_waitmask(void)
{
	uint64_t m = 0;
	for (struct rt_g *w = waiters; w; w = w->sigwnext)
		m |= w->sigwaitset;
	rt_store(&waitmask, m);
}

/* siglock held.  Take g off the waiter list (it is on it). */
static void waiter_remove(struct rt_g *g)
{
	for (struct rt_g **pp = &waiters; *pp; pp = &(*pp)->sigwnext)
		if (*pp == g) {
			*pp = g->sigwnext;
			break;
		}
	g->sigwaitset = 0;
	recompute_waitmask();
}

/* Give instance i (0: no siginfo) of sig to a waiter or a G that accepts
 * it; false when every G blocks it. */
static bool route_one(int sig, uint32_t i, struct wakelist *wl)
{
	uint64_t b = BIT(sig);
	for (struct rt_g **pp = &waiters; *pp; pp = &(*pp)->sigwnext) {
		struct rt_g *w = *pp;
		if (!(w->sigwaitset & b) || !rt_wake_claim(w, RT_WOKEN))
			continue;
		*pp = w->sigwnext;
		w->sigwaitgot = sig;
		w->sigwaitent = i;
		w->sigwaitset = 0;
		wl_add(wl, w);
		return true;
	}
	struct rt_g *t = NULL;
	rt_lock(&rt_sched.allglock);
	for (struct rt_g *g = rt_sched.allg; g; g = g->allnext)
		if (!(rt_load_relaxed(&g->sigmask) & b) &&
		    rt_load(&g->status) != G_DEAD && !g->sigexited) {
			t = g;
			break;
		}
	if (t) {
		rt_or64(&t->sigproc, b);
		g_add(t, sig, i);
		notify(t, sig, wl);
	}
	rt_unlock(&rt_sched.allglock);
	return t != NULL;
}

/* Offer the process-pending instances not offered yet, oldest first. */
static void route_fresh(struct wakelist *wl)
{
	if (!rt_xchg(&needroute, 0u))
		return;
	uint32_t prev = 0;
	for (uint32_t i = pq.head, n; i; i = n) {
		n = rt_sigq_next(i);
		struct rt_sigent *e = rt_sigq_ent(i);
		if (!e->fresh) {
			prev = i;
			continue;
		}
		e->fresh = false;
		int sig = e->si.si_signo;
		/* unlink it; route_one puts it on the G (or waiter) taking it */
		if (prev)
			rt_store_relaxed(&rt_sigq_ent(prev)->next, n);
		else
			pq.head = n;
		if (pq.tail == i)
			pq.tail = prev;
		if (route_one(sig, i, wl)) {
			pbit(sig);
			continue;
		}
		/* every G blocks it: back in its place */
		rt_store_relaxed(&e->next, n);
		if (prev)
			rt_store_relaxed(&rt_sigq_ent(prev)->next, i);
		else
			pq.head = i;
		if (pq.tail == prev)
			pq.tail = i;
		prev = i;
	}
	for (uint64_t l = pnoinfo_fresh; l; l &= l - 1) {
		int sig = __builtin_ctzll(l) + 1;
		pnoinfo_fresh &= ~BIT(sig);
		if (route_one(sig, 0, wl)) {
			pnoinfo &= ~BIT(sig);
			pbit(sig);
		}
	}
	recompute_waitmask();
}

void rt_sig_dispatch(void)
{
	if (!rt_load(&incoming) && !rt_load(&needroute) &&
	    rt_sigq_inbox_empty())
		return;
	rt_store(&incoming, (uint64_t)0); /* before the drain: see arrived */
	struct wakelist wl = {0};
	sig_lock();
	/* Only new arrivals are routed: a signal every G blocked stays
	 * process-pending until a G unblocks it (rt_sigmask_set) or waits
	 * for it (rt_sigwait), which take it themselves; no rescans. */
	drain();
	route_fresh(&wl);
	sig_unlock();
	wl_flush(&wl);
}

/* A new instance of sig (si as the kernel would fill it; NULL: SI_TKILL
 * from this process): its entry, 0 with *err = EAGAIN when the pool is
 * full and sig a real-time signal not sent by kill() (the kernel's rule;
 * others go on without their siginfo). */
static uint32_t new_instance(int sig, const siginfo_t *si, int *err)
{
	rt_sigq_init();
	uint32_t i = rt_sigq_new(sig, si);
	*err = !i && sig >= 32 && !(si && si->si_code == SI_USER) ? EAGAIN
								    : 0;
	return i;
}

int rt_sig_process_send(int sig, const siginfo_t *si)
{
	int err;
	uint32_t i = new_instance(sig, si, &err);
	if (err)
		return err;
	struct wakelist wl = {0};
	sig_lock();
	drain();
	pq_add(sig, i);
	route_fresh(&wl);
	sig_unlock();
	wl_flush(&wl);
	return 0;
}

int rt_sig_send(struct rt_g *g, int sig, const siginfo_t *si)
{
	int err = 0;
	uint32_t i = 0;
	if (sig != RT_SIGCANCEL) {
		i = new_instance(sig, si, &err);
		if (err)
			return err;
	}
	struct wakelist wl = {0};
	sig_lock();
	if (g->sigexited) { /* ending: natively the signal is lost too */
		sig_unlock();
		rt_sigq_free(i);
		return 0;
	}
	/* a G in sigwait for it takes it at once */
	if ((g->sigwaitset & BIT(sig)) && rt_wake_claim(g, RT_WOKEN)) {
		waiter_remove(g);
		g->sigwaitgot = sig;
		g->sigwaitent = i;
		wl_add(&wl, g);
		sig_unlock();
		wl_flush(&wl);
		return 0;
	}
	g_add(g, sig, i);
	sig_unlock();
	if (g != rt_getg()) {
		notify(g, sig, &wl);
		if (!wl.head)
			kick_sysmon(); /* running or runnable: sysmon kicks it
					  once it runs program code */
	}
	wl_flush(&wl);
	return 0;
}

int rt_sigcheck(void)
{
	struct rt_g *g = rt_getg();
	int r = 0;
	uint64_t d;
	while ((d = deliverable(g)) != 0) {
		int sig = __builtin_ctzll(d) + 1;
		siginfo_t si;
		if (sig == RT_SIGCANCEL) { /* a bit only, never queued */
			rt_and64(&g->sigpending, ~BIT(sig));
			rt_sigq_default_info(&si, sig, SI_TKILL);
		} else {
			sig_lock();
			drain();
			take_own(g, sig, &si);
			sig_unlock();
		}
		int f = rt_sighooks.deliver(sig, &si);
		if (f & RT_SIG_RAN)
			g->sigran++;
		r |= f;
	}
	return r;
}

uint32_t rt_sig_ran(void) { return rt_getg()->sigran; }

uint64_t rt_sigpending(void)
{
	sig_lock();
	drain();
	uint64_t p = ppending;
	sig_unlock();
	return p | rt_load(&rt_getg()->sigpending);
}

/* siglock held.  Move every process-pending instance of the signals in
 * take to the calling G, in order. */
static void take_from_process(struct rt_g *g, uint64_t take)
{
	uint32_t prev = 0;
	for (uint32_t i = pq.head, n; i; i = n) {
		n = rt_sigq_next(i);
		struct rt_sigent *e = rt_sigq_ent(i);
		if (!(take & BIT(e->si.si_signo))) {
			prev = i;
			continue;
		}
		if (prev)
			rt_store_relaxed(&rt_sigq_ent(prev)->next, n);
		else
			pq.head = n;
		if (pq.tail == i)
			pq.tail = prev;
		e->fresh = false;
		rt_sigq_put(&g->sigq, i);
	}
	rt_or64(&g->sigproc, take);
	rt_or64(&g->sigpending, take);
	ppending &= ~take;
	pnoinfo &= ~take;
	pnoinfo_fresh &= ~take;
}

void rt_sigmask_set(uint64_t mask)
{
	struct rt_g *g = rt_getg();
	uint64_t unblocked = g->sigmask & ~mask;
	rt_store(&g->sigmask, mask);
	/* process-pending signals this G now accepts become its own, so
	 * they are delivered before pthread_sigmask returns (POSIX).  (May
	 * run in the trampoline, via a handler's return: no routing here.) */
	if (unblocked && (rt_load_relaxed(&ppending) | rt_load(&incoming) |
			  !rt_sigq_inbox_empty())) {
		sig_lock();
		drain();
		uint64_t take = ppending & unblocked;
		if (take)
			take_from_process(g, take);
		sig_unlock();
	}
}

uint64_t rt_sigmask_get(void) { return rt_getg()->sigmask; }

bool rt_intr(bool on)
{
	struct rt_g *g = rt_getg();
	if (!g) /* an OS thread of glibc's own: it blocks, never parks */
		return false;
	bool old = g->intr;
	rt_store(&g->intr, on);
	return old;
}

static bool unlock_siglock(struct rt_g *g, void *arg)
{
	sig_unlock();
	return true;
}

int rt_sigwait(uint64_t set, int64_t deadline, int *sig, siginfo_t *si)
{
	struct rt_g *g = rt_getg();
	siginfo_t tmp;
	if (!si)
		si = &tmp;
	for (;;) {
		sig_lock();
		drain();
		/* the thread's own first, then the process's (as Linux) */
		uint64_t mine = rt_load(&g->sigpending) & set;
		uint64_t proc = ppending & set;
		if (mine || proc) {
			int s = __builtin_ctzll(mine ? mine : proc) + 1;
			if (mine)
				take_own(g, s, si);
			else
				take_proc(s, si);
			sig_unlock();
			*sig = s;
			si->si_signo = s;
			return 0;
		}
		if (deadline == 0) {
			sig_unlock();
			return EAGAIN;
		}
		g->sigwaitset = set;
		g->sigwaitgot = 0;
		g->sigwaitent = 0;
		g->sigwnext = waiters;
		waiters = g;
		rt_store(&waitmask, rt_load(&waitmask) | set);
		rt_prepare_wait(g);
		int r = rt_park(unlock_siglock, NULL, WAIT_SIGNAL, deadline);
		sig_lock();
		int got = g->sigwaitgot;
		uint32_t ent = g->sigwaitent;
		g->sigwaitent = 0;
		if (!got) /* timed out or interrupted: leave the list */
			waiter_remove(g);
		sig_unlock();
		if (got) {
			*sig = got;
			if (ent)
				*si = rt_sigq_ent(ent)->si;
			else
				rt_sigq_default_info(si, got, SI_USER);
			rt_sigq_free(ent);
			si->si_signo = got;
			return 0;
		}
		if (r == RT_TIMEDOUT)
			return EAGAIN;
		if (r == RT_INTR)
			return EINTR;
	}
}

void rt_sig_kset_add(uint64_t set)
{
	rt_or64(&rt_sig_kset, set);
	/* the calling M at once; the others at their next G switch */
	struct rt_g *g = rt_getg();
	if (g && g->m)
		rt_apply_kmask(g->m);
}

void rt_sig_gexit(struct rt_g *g)
{
	/* The thread takes no signal any more (natively exit_signals()).
	 * A process-directed instance given to it that it did not take (it
	 * blocked it meanwhile) goes back to the process; the others (sent
	 * to this thread) die with it. */
	struct wakelist wl = {0};
	sig_lock();
	drain();
	g->sigexited = true;
	uint64_t noinfo = rt_xchg64(&g->sigproc, 0) & rt_load(&g->sigpending);
	for (uint32_t i = g->sigq.head, n; i; i = n) {
		n = rt_sigq_next(i);
		struct rt_sigent *e = rt_sigq_ent(i);
		int sig = e->si.si_signo;
		if (e->proc) {
			noinfo &= ~BIT(sig);
			pq_add(sig, i);
		} else {
			rt_sigq_free(i);
		}
	}
	g->sigq = (struct rt_sigq){0, 0};
	for (uint64_t l = noinfo; l; l &= l - 1)
		pq_add(__builtin_ctzll(l) + 1, 0);
	rt_store(&g->sigpending, (uint64_t)0);
	route_fresh(&wl);
	sig_unlock();
	wl_flush(&wl);
}

void rt_sig_ginit(struct rt_g *g)
{
	/* An instance the trampoline pushed for g's former life just before
	 * it ended may still be in the inbox: it goes to the process. */
	if (!rt_sigq_inbox_empty()) {
		sig_lock();
		drain();
		sig_unlock();
	}
	g->sigexited = false;
	g->sigq = (struct rt_sigq){0, 0};
	g->sigwaitent = 0;
}

uint64_t rt_sig_kmask(void) { return rt_load(&rt_sig_kset); }

static void set_fs(void *tp)
{
	if (rt_have_fsgsbase)
		__asm__ volatile("wrfsbase %0" ::"r"(tp) : "memory");
	else
		rt_syscall2(SYS_arch_prctl, 0x1002 /* ARCH_SET_FS */, tp);
}

static __attribute__((noinline)) int errno_here(void) { return errno; }

/* Point the thread pointer at the descriptor glibc associates with this
 * OS thread (M0: the main thread's; other Ms: their own).  Returns the
 * one to put back, or NULL when nothing changed. */
static void *enter_os_thread(void)
{
	struct rt_g *g = rt_getg();
	struct rt_m *m = g ? g->m : NULL;
	void *cur;
	__asm__ volatile("mov %%fs:0, %0" : "=r"(cur));
	void *os = !m ? cur : m == rt_m0() ? rt_tls.main_tp : m->native_tp;
	if (os == cur)
		return NULL;
	set_fs(os);
	return cur;
}

static void leave_os_thread(void *prev)
{
	if (prev)
		set_fs(prev);
}

long rt_call_on_os_thread(long (*f)(long, long, long), long a, long b, long c,
			  int *err)
{
	void *prev = enter_os_thread();
	long r = f(a, b, c);
	*err = errno_here(); /* the OS thread's errno */
	leave_os_thread(prev);
	return r;
}

void rt_sig_on_os_thread(void (*f)(int, siginfo_t *, void *), int sig,
			 siginfo_t *si, void *uc)
{
	void *prev = enter_os_thread();
	f(sig, si, uc);
	leave_os_thread(prev);
}

void rt_sig_enable(void)
{
	rt_sigq_init(); /* before the trampoline can need an entry */
	rt_sysmon_running();
}

void rt_sig_fork_child(void)
{
	siglock = (rt_mutex){0};
	waiters = NULL;
	ppending = pnoinfo = pnoinfo_fresh = 0;
	pq = (struct rt_sigq){0, 0};
	needroute = 0;
	lostinfo = 0;
	rt_sigq_fork_child();
	struct rt_g *g = rt_getg();
	g->sigq = (struct rt_sigq){0, 0};
	g->sigproc = 0;
	g->sigwaitent = 0;
	if (g->m)
		g->m->locks = 0;
	incoming = 0;
	waitmask = 0;
	rt_sig_note = 0;
	/* POSIX: the child's pending set is empty */
	rt_store(&rt_getg()->sigpending, 0);
}
