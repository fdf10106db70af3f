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
 *      prefers the main thread) has it added to g->sigpending and is
 *      interrupted (rt_sig_notify);
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
 * Limits: one siginfo per signal number (the last one; real-time signals
 * sent faster than they are delivered lose their queueing and values).
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

static uint64_t incoming;        /* atomic: arrived, not yet routed */
static uint64_t ppending;        /* siglock: routed to nobody yet */
static uint64_t waitmask;        /* atomic: union of the waiters' sets */
static siginfo_t infos[65];      /* last siginfo per signal (racy, see top) */
static rt_mutex siglock;         /* guards ppending, waiters, g->sigwait* */
static struct rt_g *waiters;     /* Gs in rt_sigwait, via sigwnext */
uint32_t rt_sig_note;            /* sysmon's futex note: 1 = work */

static uint64_t deliverable(struct rt_g *g)
{
	return rt_load(&g->sigpending) & (~g->sigmask | RT_SIGCANCEL_BIT);
}

bool rt_sig_deliverable(struct rt_g *g) { return deliverable(g) != 0; }

bool rt_sig_pending_self(void) { return deliverable(rt_getg()) != 0; }

static void set_info(int sig, const siginfo_t *si)
{
	if (si)
		infos[sig] = *si;
	else {
		memset(&infos[sig], 0, sizeof infos[sig]);
		infos[sig].si_signo = sig;
		infos[sig].si_code = SI_TKILL;
		infos[sig].si_pid = (pid_t)rt_syscall0(SYS_getpid);
		infos[sig].si_uid = (uid_t)rt_syscall0(SYS_getuid);
	}
}

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
	set_info(sig, si);
	rt_or64(&incoming, BIT(sig));
	kick_sysmon();
}

void rt_sig_pend_self(int sig, const siginfo_t *si)
{
	set_info(sig, si);
	rt_or64(&rt_getg()->sigpending, BIT(sig));
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
	uint32_t st = rt_load(&g->status);
	if (st == G_WAITING) {
		if (rt_load(&g->intr) && rt_wake_claim(g, RT_INTR))
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

/* siglock held.  Give signal sig to a waiter or a G that takes it. */
static bool route_one(int sig, struct wakelist *wl)
{
	uint64_t b = BIT(sig);
	for (struct rt_g **pp = &waiters; *pp; pp = &(*pp)->sigwnext) {
		struct rt_g *w = *pp;
		if (!(w->sigwaitset & b) || !rt_wake_claim(w, RT_WOKEN))
			continue;
		*pp = w->sigwnext;
		w->sigwaitgot = sig;
		w->sigwaitset = 0;
		wl_add(wl, w);
		return true;
	}
	struct rt_g *t = NULL;
	rt_lock(&rt_sched.allglock);
	for (struct rt_g *g = rt_sched.allg; g; g = g->allnext)
		if (!(rt_load_relaxed(&g->sigmask) & b) &&
		    rt_load(&g->status) != G_DEAD) {
			t = g;
			break;
		}
	if (t) {
		rt_or64(&t->sigproc, b);
		rt_or64(&t->sigpending, b);
		notify(t, sig, wl);
	}
	rt_unlock(&rt_sched.allglock);
	return t != NULL;
}

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

void rt_sig_dispatch(void)
{
	if (!rt_load(&incoming))
		return;
	uint64_t in = rt_xchg64(&incoming, 0);
	struct wakelist wl = {0};
	rt_lock(&siglock);
	/* Only new arrivals are routed: a signal every G blocked stays
	 * process-pending until a G unblocks it (rt_sigmask_set) or waits
	 * for it (rt_sigwait), which take it themselves; no rescans. */
	for (uint64_t left = in; left; left &= left - 1) {
		int sig = __builtin_ctzll(left) + 1;
		if (!route_one(sig, &wl))
			ppending |= BIT(sig);
	}
	recompute_waitmask();
	rt_unlock(&siglock);
	wl_flush(&wl);
}

void rt_sig_process_send(int sig, const siginfo_t *si)
{
	set_info(sig, si);
	struct wakelist wl = {0};
	rt_lock(&siglock);
	if (!route_one(sig, &wl))
		ppending |= BIT(sig);
	recompute_waitmask();
	rt_unlock(&siglock);
	wl_flush(&wl);
}

bool rt_sig_send(struct rt_g *g, int sig, const siginfo_t *si)
{
	if (sig != RT_SIGCANCEL)
		set_info(sig, si);
	struct wakelist wl = {0};
	/* a G in sigwait for it takes it at once */
	if (g->sigwaitset & BIT(sig)) {
		rt_lock(&siglock);
		if ((g->sigwaitset & BIT(sig)) && rt_wake_claim(g, RT_WOKEN)) {
			waiter_remove(g);
			g->sigwaitgot = sig;
			wl_add(&wl, g);
		}
		rt_unlock(&siglock);
		if (wl.head) {
			wl_flush(&wl);
			return true;
		}
	}
	rt_or64(&g->sigpending, BIT(sig));
	if (g != rt_getg()) {
		notify(g, sig, &wl);
		if (!wl.head)
			kick_sysmon(); /* running or runnable: sysmon kicks it
					  once it runs program code */
	}
	wl_flush(&wl);
	return true;
}

int rt_sigcheck(void)
{
	struct rt_g *g = rt_getg();
	int r = 0;
	uint64_t d;
	while ((d = deliverable(g)) != 0) {
		int sig = __builtin_ctzll(d) + 1;
		rt_and64(&g->sigpending, ~BIT(sig));
		rt_and64(&g->sigproc, ~BIT(sig));
		siginfo_t si = infos[sig];
		si.si_signo = sig;
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
	rt_lock(&siglock);
	uint64_t p = ppending | rt_load(&incoming);
	rt_unlock(&siglock);
	return p | rt_load(&rt_getg()->sigpending);
}

void rt_sigmask_set(uint64_t mask)
{
	struct rt_g *g = rt_getg();
	uint64_t unblocked = g->sigmask & ~mask;
	rt_store(&g->sigmask, mask);
	/* process-pending signals this G now accepts become its own, so
	 * they are delivered before pthread_sigmask returns (POSIX) */
	if (unblocked && (rt_load_relaxed(&ppending) | rt_load(&incoming))) {
		rt_lock(&siglock);
		ppending |= rt_xchg64(&incoming, 0);
		uint64_t take = ppending & unblocked;
		ppending &= ~take;
		rt_unlock(&siglock);
		rt_or64(&g->sigpending, take);
		if (ppending)
			kick_sysmon();
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
	rt_unlock(&siglock);
	return true;
}

int rt_sigwait(uint64_t set, int64_t deadline, int *sig, siginfo_t *si)
{
	struct rt_g *g = rt_getg();
	for (;;) {
		rt_lock(&siglock);
		ppending |= rt_xchg64(&incoming, 0);
		uint64_t mine = rt_load(&g->sigpending) & set;
		uint64_t proc = ppending & set;
		if (mine || proc) {
			int s = __builtin_ctzll(mine ? mine : proc) + 1;
			if (mine)
				rt_and64(&g->sigpending, ~BIT(s));
			else
				ppending &= ~BIT(s);
			rt_unlock(&siglock);
			*sig = s;
			if (si) {
				*si = infos[s];
				si->si_signo = s;
			}
			return 0;
		}
		if (deadline == 0) {
			rt_unlock(&siglock);
			return EAGAIN;
		}
		g->sigwaitset = set;
		g->sigwaitgot = 0;
		g->sigwnext = waiters;
		waiters = g;
		rt_store(&waitmask, rt_load(&waitmask) | set);
		rt_prepare_wait(g);
		int r = rt_park(unlock_siglock, NULL, WAIT_SIGNAL, deadline);
		rt_lock(&siglock);
		int got = g->sigwaitgot;
		if (!got) /* timed out or interrupted: leave the list */
			waiter_remove(g);
		rt_unlock(&siglock);
		if (got) {
			*sig = got;
			if (si) {
				*si = infos[got];
				si->si_signo = got;
			}
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
	/* A process-directed signal given to a thread that ends without
	 * taking it (it blocked it meanwhile) goes back to the process. */
	uint64_t left = rt_xchg64(&g->sigproc, 0) & rt_load(&g->sigpending);
	if (left) {
		rt_or64(&incoming, left);
		kick_sysmon();
	}
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

void rt_sig_enable(void) { rt_sysmon_running(); }

void rt_sig_fork_child(void)
{
	siglock = (rt_mutex){0};
	waiters = NULL;
	ppending = 0;
	incoming = 0;
	waitmask = 0;
	rt_sig_note = 0;
	/* POSIX: the child's pending set is empty */
	rt_store(&rt_getg()->sigpending, 0);
}
