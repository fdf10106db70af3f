/*
 * signal.c - POSIX signals for green threads: dispositions (sigaction and
 * its older spellings), per-thread masks, pthread_kill, the sigwait
 * family, sigsuspend/pause, sigpending, and the kernel-facing trampoline.
 *
 * Natively the kernel picks a thread that does not block a signal and
 * runs the handler there.  Under greenrun a thread is a G and the kernel
 * only sees OS threads (Ms), so:
 *   - masks are per G and kept in software (rt_sigmask_*); every M's
 *     kernel mask is the constant rt_sig_kset;
 *   - for every signal the program handles, blocks, waits for or sends,
 *     the kernel disposition is our trampoline (installed lazily: a signal
 *     nobody touched keeps its kernel default, exactly native).  The
 *     program's own disposition lives in acts[];
 *   - the trampoline runs the program's handler inline when the G on that
 *     M accepts the signal and is in program code; otherwise it hands the
 *     signal to runtime/sig.c, which routes it to a G and interrupts that
 *     G's blocking call;
 *   - a G runs a handler with sa_mask (and the signal, unless SA_NODEFER)
 *     added to its mask; the default action (terminate, core, stop,
 *     ignore) is carried out for real by re-raising with SIG_DFL;
 *   - a blocking call interrupted by a handler fails with EINTR, or is
 *     restarted when SA_RESTART says so and the call is restartable
 *     (shim_intr_restart; signal(7) lists which).
 * Synchronous faults (SIGSEGV from a bad access, SIGFPE, SIGILL, SIGBUS,
 * SIGTRAP, SIGSYS raised by the CPU) always run on the faulting G, at
 * once.  SIGKILL, SIGSTOP and glibc's SIGCANCEL/SIGSETXID (32, 33) are not
 * the program's (EINVAL, as glibc).  SIGURG carries greenrun's preemption;
 * the program's own SIGURGs are told apart and routed like any other.
 *
 * siglongjmp out of a handler restores the mask the thread had before it
 * (the mask glibc saved in the jmp_buf is the OS thread's, useless here):
 * we keep a small stack of the handlers running on each G.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "shim.h"
#include "sys.h"

#define BIT(sig) (1ull << ((sig) - 1))
#define UNBLOCKABLE (BIT(SIGKILL) | BIT(SIGSTOP) | BIT(32) | BIT(33))
#define SYNC_SIGS                                                              \
	(BIT(SIGSEGV) | BIT(SIGBUS) | BIT(SIGFPE) | BIT(SIGILL) |              \
	 BIT(SIGTRAP) | BIT(SIGSYS))

/* The program's disposition of each signal.  Written under actlock,
 * read without it (a handler racing a change sees the old or the new). */
struct act {
	void *handler; /* SIG_DFL, SIG_IGN or the function */
	int flags;     /* SA_* */
	uint64_t mask; /* sa_mask */
};
static struct act acts[NSIG];
static rt_mutex actlock;
static uint64_t tramp_on; /* atomic: the kernel runs our trampoline */

uint64_t shim_sigset_bits(const sigset_t *set)
{
	uint64_t v;
	memcpy(&v, set, sizeof v);
	return v & ~UNBLOCKABLE;
}

static void bits_to_set(uint64_t v, sigset_t *set)
{
	sigemptyset(set);
	memcpy(set, &v, sizeof v);
}

static bool catchable(int sig)
{
	return sig >= 1 && sig < NSIG && sig != SIGKILL && sig != SIGSTOP &&
	       sig != 32 && sig != 33;
}

/* ---- running an action on the current G -------------------------------- */

static void set_kmask(uint64_t m)
{
	rt_syscall4(SYS_rt_sigprocmask, SIG_SETMASK, &m, NULL, 8);
}

/* Carry out the default action of sig for real. */
static void default_action(int sig)
{
	switch (sig) {
	case SIGCHLD: case SIGCONT: case SIGURG: case SIGWINCH:
		return;
	case SIGTSTP: case SIGTTIN: case SIGTTOU:
		kill(getpid(), SIGSTOP);
		return;
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	real.sigaction(sig, &sa, NULL);
	uint64_t b = BIT(sig);
	rt_syscall4(SYS_rt_sigprocmask, SIG_UNBLOCK, &b, NULL, 8);
	rt_syscall3(SYS_tgkill, rt_syscall0(SYS_getpid),
		    rt_syscall0(SYS_gettid), sig);
	_exit(128 + sig); /* not reached: the signal ends the process */
}

/* Run the program's action for sig on the calling G.  Returns RT_SIG_*
 * flags.  uc: the interrupted context when known, else NULL. */
static int run_action(int sig, siginfo_t *si, void *uc)
{
	struct act a = acts[sig];
	if (a.handler == SIG_IGN)
		return 0;
	if (a.handler == SIG_DFL) {
		default_action(sig);
		return 0;
	}
	struct rt_g *g = rt_getg();
	struct shim_thread *st = shim_self();
	uint64_t old = g->sigmask;
	uint64_t add = a.mask | ((a.flags & SA_NODEFER) ? 0 : BIT(sig));
	__atomic_store_n(&g->sigmask, (old | add) & ~UNBLOCKABLE,
			 __ATOMIC_SEQ_CST);
	if (a.flags & SA_RESETHAND) {
		rt_lock(&actlock);
		if (acts[sig].handler == a.handler)
			acts[sig] = (struct act){SIG_DFL, 0, 0};
		rt_unlock(&actlock);
	}
	ucontext_t fake;
	if (!uc) {
		memset(&fake, 0, sizeof fake);
		memcpy(&fake.uc_sigmask, &old, sizeof old);
		uc = &fake;
	}
	int d = st->hdepth;
	if (d < SHIM_HSTACK) {
		st->hstack[d].sp = (uintptr_t)__builtin_frame_address(0);
		st->hstack[d].oldmask = old;
	}
	st->hdepth = d + 1;
	if (a.flags & SA_SIGINFO)
		((void (*)(int, siginfo_t *, void *))a.handler)(sig, si, uc);
	else
		((void (*)(int))a.handler)(sig);
	st->hdepth = d;
	rt_sigmask_set(old);
	return RT_SIG_RAN |
	       ((a.flags & SA_RESTART) ? RT_SIG_RESTART : RT_SIG_NORESTART);
}

/* rt_sighooks.deliver: a pending signal, at a G's check point. */
static int hook_deliver(int sig, const siginfo_t *si)
{
	if (sig == RT_SIGCANCEL)
		return 0; /* cancel.c acts at cancellation points */
	siginfo_t copy = *si;
	int saved = errno;
	int r = run_action(sig, &copy, NULL);
	errno = saved;
	return r;
}

bool shim_intr_restart(bool restartable)
{
	int f = rt_sigcheck();
	shim_testcancel();
	if (!(f & RT_SIG_RAN))
		return true; /* nothing ran (ignored, or taken elsewhere) */
	return restartable && !(f & RT_SIG_NORESTART);
}

/* ---- the trampoline ----------------------------------------------------- */

/* May the G running on this M take a handler right here? */
static bool inline_ok(struct rt_g *g, ucontext_t *uc)
{
	uintptr_t pc = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
	struct rt_m *m = g->m;
	return !rt_pc_in_greenrun(pc) && m && m->curg == g && m->p &&
	       __atomic_load_n(&m->p->status, __ATOMIC_SEQ_CST) == P_RUNNING;
}

static void tramp(int sig, siginfo_t *si, void *ucv)
{
	int saved = errno;
	if (rt_sig_is_resend(si)) {
		/* the copy that ended a G's system call: the signal is
		 * pending on that G already (runtime/sig.c: resend) */
		errno = saved;
		return;
	}
	struct rt_g *g = rt_getg();
	ucontext_t *uc = ucv;
	uint64_t b = BIT(sig);
	if (rt_sig_kmask() & b) {
		/* a signalfd reads it: this OS thread has not blocked it
		 * yet.  Block it here and queue it again for the process,
		 * where it stays pending for the signalfd. */
		set_kmask(rt_sig_kmask());
		uc->uc_sigmask.__val[0] |= rt_sig_kmask(); /* after return too */
		rt_syscall3(SYS_rt_sigqueueinfo, shim_pid, sig, si);
		errno = saved;
		return;
	}
	bool sync = (SYNC_SIGS & b) && si->si_code > 0;
	if (g && !g->isg0) {
		bool mine = !(g->sigmask & b);
		bool waited = rt_sig_waitmask() & b;
		bool tdir = si->si_code == SI_TKILL && si->si_pid == shim_pid;
		if (sync || (mine && !waited && inline_ok(g, uc))) {
			/* Unblock on this M what the kernel blocked for the
			 * handler: the G may park inside it and the M run
			 * others; the G's own mask now covers it. */
			set_kmask(rt_sig_kmask());
			if (sync && !mine)
				default_action(sig);
			run_action(sig, si, uc);
			/* one raised inside the handler (blocked there) is
			 * delivered as soon as it returns, as natively */
			if (rt_sig_pending_self())
				rt_sigcheck();
		} else if (tdir || (mine && !waited)) {
			rt_sig_pend_self(sig, si);
		} else {
			rt_sig_arrived(sig, si);
		}
	} else if (sync) {
		default_action(sig); /* a fault on a scheduler context */
	} else {
		rt_sig_arrived(sig, si);
	}
	errno = saved;
}

/* rt_sighooks.has_handlers */
static bool hook_has_handlers(void)
{
	for (int sig = 1; sig < NSIG; sig++) {
		void *h = acts[sig].handler;
		if (h != SIG_DFL && h != SIG_IGN)
			return true;
	}
	return false;
}

/* rt_sighooks.foreign: a SIGURG that is not the runtime's. */
static void hook_foreign(int sig, siginfo_t *si, void *uc)
{
	if (acts[SIGURG].handler != SIG_DFL && acts[SIGURG].handler != SIG_IGN)
		tramp(sig, si, uc);
}

/* runtime/signal.c: a SIGSEGV/SIGBUS that is not a stack overflow.
 * Returns false for the default action. */
static bool hook_fault(int sig, siginfo_t *si, void *uc)
{
	void *h = acts[sig].handler;
	if (si->si_code <= 0) { /* sent by kill & co.: an ordinary signal */
		if (h != SIG_IGN)
			tramp(sig, si, uc);
		return true;
	}
	if (h == SIG_DFL || h == SIG_IGN)
		return false;
	tramp(sig, si, uc);
	return true;
}

/* Make the kernel run the trampoline for sig (flags mirror the program's
 * SA_RESTART so a real blocking system call gets EINTR exactly when it
 * would natively).  actlock held, or single-threaded. */
static void install(int sig)
{
	if (sig == SIGURG || sig == SIGSEGV || sig == SIGBUS ||
	    !catchable(sig))
		return; /* the runtime's own handlers route these */
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = tramp;
	sa.sa_flags = SA_SIGINFO |
		      (acts[sig].flags & (SA_RESTART | SA_NOCLDSTOP |
					  SA_NOCLDWAIT));
	if (SYNC_SIGS & BIT(sig))
		sa.sa_flags |= SA_ONSTACK | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	real.sigaction(sig, &sa, NULL);
	__atomic_fetch_or(&tramp_on, BIT(sig), __ATOMIC_SEQ_CST);
	rt_sig_enable();
}

/* The trampoline must see sig (it is blocked, waited for or sent). */
static void need(uint64_t set)
{
	set &= ~__atomic_load_n(&tramp_on, __ATOMIC_SEQ_CST);
	set &= ~(BIT(SIGURG) | BIT(SIGSEGV) | BIT(SIGBUS) | UNBLOCKABLE);
	if (!set)
		return;
	rt_lock(&actlock);
	for (int sig = 1; sig < NSIG; sig++)
		if ((set & BIT(sig)) && acts[sig].handler != SIG_IGN &&
		    !(tramp_on & BIT(sig)))
			install(sig);
	rt_unlock(&actlock);
}

/* ---- sigaction and its older spellings --------------------------------- */

EXPORT int sigaction(int sig, const struct sigaction *act,
		     struct sigaction *old)
{
	shim_check();
	if (shim_in_vfork) /* the child has its own dispositions */
		return real.sigaction(sig, act, old);
	if (sig < 1 || sig >= NSIG || ((sig == 32 || sig == 33) && act) ||
	    (act && (sig == SIGKILL || sig == SIGSTOP))) {
		errno = EINVAL;
		return -1;
	}
	if (sig == SIGKILL || sig == SIGSTOP || sig == 32 || sig == 33)
		return real.sigaction(sig, act, old);
	rt_lock(&actlock);
	struct act prev = acts[sig];
	if (act) {
		struct act n = {act->sa_handler, act->sa_flags,
				shim_sigset_bits(&act->sa_mask)};
		if (act->sa_flags & SA_SIGINFO)
			n.handler = (void *)act->sa_sigaction;
		acts[sig] = n;
		if (n.handler == SIG_IGN) {
			if (sig != SIGURG && sig != SIGSEGV && sig != SIGBUS) {
				struct sigaction ign;
				memset(&ign, 0, sizeof ign);
				ign.sa_handler = SIG_IGN;
				real.sigaction(sig, &ign, NULL);
				__atomic_fetch_and(&tramp_on, ~BIT(sig),
						   __ATOMIC_SEQ_CST);
			}
		} else if (n.handler != SIG_DFL ||
			   (tramp_on & BIT(sig))) {
			install(sig);
		} else if (sig != SIGURG && sig != SIGSEGV && sig != SIGBUS) {
			/* default, and nobody needs the trampoline: the
			 * kernel's default (from SIG_IGN too; SIGCHLD's
			 * SA_NOCLDWAIT & co. pass through) */
			struct sigaction d = *act;
			real.sigaction(sig, &d, NULL);
		}
	}
	rt_unlock(&actlock);
	/* the handler blocks sa_mask while it runs (in software): those
	 * signals must come through the trampoline too; and routing must run
	 * (SIGSEGV/SIGBUS/SIGURG come through the runtime's own handlers) */
	if (act && acts[sig].handler != SIG_DFL && acts[sig].handler != SIG_IGN) {
		need(acts[sig].mask);
		rt_sig_enable();
	}
	if (old) {
		memset(old, 0, sizeof *old);
		old->sa_handler = prev.handler;
		old->sa_flags = prev.flags;
		bits_to_set(prev.mask, &old->sa_mask);
	}
	return 0;
}

EXPORT int __sigaction(int sig, const struct sigaction *act,
		       struct sigaction *old)
{
	return sigaction(sig, act, old);
}

static sighandler_t set_handler(int sig, sighandler_t h, int flags)
{
	struct sigaction sa, old;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = h;
	sa.sa_flags = flags;
	if (sigaction(sig, &sa, &old) != 0)
		return SIG_ERR;
	return old.sa_handler;
}

/* BSD semantics, as glibc's signal(): SA_RESTART, handler stays. */
EXPORT sighandler_t signal(int sig, sighandler_t h)
{
	return set_handler(sig, h, SA_RESTART);
}

EXPORT sighandler_t bsd_signal(int sig, sighandler_t h)
{
	return set_handler(sig, h, SA_RESTART);
}

/* System V semantics: one-shot, no restart, not blocked in the handler. */
EXPORT sighandler_t sysv_signal(int sig, sighandler_t h)
{
	return set_handler(sig, h, SA_RESETHAND | SA_NODEFER);
}

EXPORT sighandler_t __sysv_signal(int sig, sighandler_t h)
{
	return sysv_signal(sig, h);
}

EXPORT int siginterrupt(int sig, int flag)
{
	struct sigaction sa;
	if (sigaction(sig, NULL, &sa) != 0)
		return -1;
	if (flag)
		sa.sa_flags &= ~SA_RESTART;
	else
		sa.sa_flags |= SA_RESTART;
	return sigaction(sig, &sa, NULL);
}

/* ---- masks ------------------------------------------------------------ */

EXPORT int pthread_sigmask(int how, const sigset_t *set, sigset_t *old)
{
	shim_check();
	if (set && how != SIG_BLOCK && how != SIG_UNBLOCK && how != SIG_SETMASK)
		return EINVAL;
	if (shim_no_g()) /* a fault handler on a scheduler context */
		return real.pthread_sigmask(how, set, old);
	uint64_t cur = rt_sigmask_get();
	uint64_t s = set ? shim_sigset_bits(set) : 0;
	if (old)
		bits_to_set(cur, old);
	if (!set)
		return 0;
	uint64_t n = how == SIG_BLOCK ? cur | s
		   : how == SIG_UNBLOCK ? cur & ~s : s;
	need(n & ~cur);
	rt_sigmask_set(n);
	if (cur & ~n) /* POSIX: a pending signal now unblocked is delivered
			 before the call returns */
		rt_sigcheck();
	return 0;
}

EXPORT int sigprocmask(int how, const sigset_t *set, sigset_t *old)
{
	int e = pthread_sigmask(how, set, old);
	if (e) {
		errno = e;
		return -1;
	}
	return 0;
}

EXPORT int sigpending(sigset_t *set)
{
	shim_check();
	__asm__("" : "+r"(set)); /* declared nonnull: keep the check */
	if (!set) {
		errno = EFAULT;
		return -1;
	}
	if (shim_no_g())
		return real.sigpending(set);
	bits_to_set(rt_sigpending() & rt_sigmask_get(), set);
	return 0;
}

/* ---- sending ------------------------------------------------------------ */

int shim_kill_g(struct rt_g *g, int sig, const siginfo_t *si)
{
	if (sig < 0 || sig >= NSIG || sig == 32 || sig == 33)
		return EINVAL;
	if (sig == 0)
		return 0;
	if (sig == SIGKILL || sig == SIGSTOP) /* whole process, as natively */
		return kill(getpid(), sig) == 0 ? 0 : errno;
	void *h = acts[sig].handler;
	if (h == SIG_IGN)
		return 0; /* discarded at generation, as the kernel does */
	need(BIT(sig));
	rt_sig_send(g, sig, si);
	if (g == rt_getg()) /* to oneself: delivered before returning */
		rt_sigcheck();
	return 0;
}

/* The siginfo of a signal this process sends itself. */
static siginfo_t own_info(int sig, int code, union sigval v)
{
	siginfo_t si;
	memset(&si, 0, sizeof si);
	si.si_signo = sig;
	si.si_code = code;
	si.si_pid = shim_pid;
	si.si_uid = getuid();
	si.si_value = v;
	return si;
}

/* kill()/sigqueue() to our own process: route the signal here and now
 * (through the kernel it would wait for sysmon to route it). */
static int self_send(int sig, siginfo_t *si)
{
	void *h = acts[sig].handler;
	if (h == SIG_IGN)
		return 0;
	need(BIT(sig));
	rt_sig_enable();
	rt_sig_process_send(sig, si);
	rt_sigcheck(); /* this thread may be the one that takes it */
	return 0;
}

static bool self_target(pid_t pid, int sig)
{
	/* (not one a signalfd reads: that must go through the kernel) */
	return pid == shim_pid && catchable(sig) && sig != SIGURG &&
	       sig != SIGSEGV && sig != SIGBUS && !shim_no_g() &&
	       !(rt_sig_kmask() & BIT(sig));
}

EXPORT int kill(pid_t pid, int sig)
{
	shim_check();
	if (!self_target(pid, sig))
		return real.kill(pid, sig);
	siginfo_t si = own_info(sig, SI_USER, (union sigval){0});
	return self_send(sig, &si);
}

EXPORT int sigqueue(pid_t pid, int sig, const union sigval v)
{
	shim_check();
	if (!self_target(pid, sig))
		return real.sigqueue(pid, sig, v);
	siginfo_t si = own_info(sig, SI_QUEUE, v);
	return self_send(sig, &si);
}

EXPORT int pthread_kill(pthread_t t, int sig)
{
	shim_check();
	struct rt_g *g = shim_g(t);
	if (!g)
		return ESRCH;
	if (shim_no_g())
		return real.pthread_kill(t, sig);
	return shim_kill_g(g, sig, NULL);
}

EXPORT int pthread_sigqueue(pthread_t t, int sig, const union sigval v)
{
	shim_check();
	struct rt_g *g = shim_g(t);
	if (!g)
		return ESRCH;
	siginfo_t si = own_info(sig, SI_QUEUE, v);
	return shim_kill_g(g, sig, &si);
}

/* ---- waiting ------------------------------------------------------------ */

static int sigwait_common(const sigset_t *set, siginfo_t *info,
			  int64_t deadline, bool interruptible)
{
	uint64_t s = shim_sigset_bits(set);
	need(s);
	for (;;) {
		shim_testcancel();
		int sig = 0;
		siginfo_t si;
		bool was = rt_intr(true);
		int e = rt_sigwait(s, deadline, &sig, &si);
		rt_intr(was);
		if (e == 0) {
			/* glibc: our own raise()/tgkill shows as SI_USER */
			if (si.si_code == SI_TKILL && si.si_pid == getpid())
				si.si_code = SI_USER;
			if (info)
				*info = si;
			return sig;
		}
		if (e == EINTR) {
			bool restart = shim_intr_restart(false);
			if (interruptible && !restart) {
				errno = EINTR;
				return -1;
			}
			continue;
		}
		errno = e;
		return -1;
	}
}

EXPORT int sigwait(const sigset_t *set, int *sig)
{
	shim_check();
	int saved = errno;
	int r = sigwait_common(set, NULL, -1, false);
	if (r < 0) {
		int e = errno;
		errno = saved;
		return e;
	}
	*sig = r;
	return 0;
}

EXPORT int sigwaitinfo(const sigset_t *set, siginfo_t *info)
{
	shim_check();
	return sigwait_common(set, info, -1, true);
}

EXPORT int sigtimedwait(const sigset_t *set, siginfo_t *info,
			const struct timespec *ts)
{
	shim_check();
	int64_t dl = -1;
	if (ts) {
		if (ts->tv_nsec < 0 || ts->tv_nsec >= 1000000000 ||
		    ts->tv_sec < 0) {
			errno = EINVAL;
			return -1;
		}
		int64_t d = shim_ts_ns(ts);
		dl = d == 0 ? 0 : rt_nanotime() + d;
	}
	return sigwait_common(set, info, dl, true);
}

/* Park until a handler runs (with the given mask for the duration). */
static int suspend_with(uint64_t mask)
{
	uint64_t old = rt_sigmask_get();
	rt_sigmask_set(mask);
	for (;;) {
		shim_testcancel();
		int f = rt_sigcheck();
		if (f & RT_SIG_RAN)
			break;
		/* a wait for no signal at all: only an interruption (a
		 * handler to run) ends it; dumps show "signal wait" */
		int sig;
		bool was = rt_intr(true);
		(void)rt_sigwait(0, -1, &sig, NULL);
		rt_intr(was);
	}
	rt_sigmask_set(old);
	rt_sigcheck();
	errno = EINTR;
	return -1;
}

EXPORT int sigsuspend(const sigset_t *set)
{
	shim_check();
	if (shim_on_g0())
		return real.sigsuspend(set);
	uint64_t m = shim_sigset_bits(set);
	need(m);
	return suspend_with(m);
}

EXPORT int __sigsuspend(const sigset_t *set) { return sigsuspend(set); }

EXPORT int pause(void)
{
	shim_check();
	if (shim_on_g0())
		return real.pause();
	return suspend_with(rt_sigmask_get());
}

/* The old System V calls, on top of the above. */
EXPORT int sighold(int sig)
{
	sigset_t s;
	sigemptyset(&s);
	if (sigaddset(&s, sig) != 0)
		return -1;
	return sigprocmask(SIG_BLOCK, &s, NULL);
}

EXPORT int sigrelse(int sig)
{
	sigset_t s;
	sigemptyset(&s);
	if (sigaddset(&s, sig) != 0)
		return -1;
	return sigprocmask(SIG_UNBLOCK, &s, NULL);
}

EXPORT int sigignore(int sig)
{
	return set_handler(sig, SIG_IGN, 0) == SIG_ERR ? -1 : 0;
}

EXPORT sighandler_t sigset(int sig, sighandler_t h)
{
	sigset_t s;
	sigemptyset(&s);
	if (sigaddset(&s, sig) != 0)
		return SIG_ERR;
	sigset_t oldmask;
	if (h == SIG_HOLD) {
		struct sigaction old;
		if (sigaction(sig, NULL, &old) != 0)
			return SIG_ERR;
		sigprocmask(SIG_BLOCK, &s, &oldmask);
		return sigismember(&oldmask, sig) ? SIG_HOLD : old.sa_handler;
	}
	sighandler_t prev = set_handler(sig, h, 0);
	if (prev == SIG_ERR)
		return SIG_ERR;
	sigprocmask(SIG_UNBLOCK, &s, &oldmask);
	return sigismember(&oldmask, sig) ? SIG_HOLD : prev;
}

/* ---- siglongjmp out of a handler ------------------------------------- */

#define JB_RSP 6

static uintptr_t demangle(uintptr_t v)
{
	uintptr_t guard;
	__asm__("mov %%fs:0x30, %0" : "=r"(guard));
	v = (v >> 0x11) | (v << (64 - 0x11));
	return v ^ guard;
}

/* Jumping to env leaves the handlers whose frames lie below its stack
 * pointer: give back the mask the first of them interrupted. */
static void leave_handlers(struct __jmp_buf_tag *env)
{
	if (shim_no_g())
		return;
	struct shim_thread *st = shim_self();
	if (st->hdepth == 0)
		return;
	uintptr_t sp = demangle((uintptr_t)env->__jmpbuf[JB_RSP]);
	bool restore = false;
	uint64_t mask = 0;
	while (st->hdepth > 0) {
		int d = st->hdepth - 1;
		if (d < SHIM_HSTACK && st->hstack[d].sp >= sp)
			break;
		if (d < SHIM_HSTACK) {
			mask = st->hstack[d].oldmask;
			restore = true;
		}
		st->hdepth = d;
	}
	if (restore && env->__mask_was_saved)
		rt_sigmask_set(mask);
}

EXPORT void siglongjmp(sigjmp_buf env, int val)
{
	leave_handlers(env);
	real.siglongjmp(env, val);
	__builtin_unreachable();
}

EXPORT void longjmp(jmp_buf env, int val)
{
	leave_handlers(env);
	real.longjmp(env, val);
	__builtin_unreachable();
}

EXPORT void _longjmp(jmp_buf env, int val)
{
	leave_handlers(env);
	real._longjmp(env, val);
	__builtin_unreachable();
}

EXPORT void __longjmp_chk(jmp_buf env, int val)
{
	leave_handlers(env);
	real.__longjmp_chk(env, val);
	__builtin_unreachable();
}

/* ---- exec: the new image gets the thread's mask ------------------------ */

void shim_before_exec(void)
{
	if (!shim_no_g())
		set_kmask(rt_sigmask_get());
}

void shim_exec_failed(void)
{
	if (!shim_no_g())
		set_kmask(rt_sig_kmask());
}

/* ---- glibc's SIGSETXID ---------------------------------------------------
 * setuid() & co. in a threaded process: glibc signals every OS thread it
 * knows with SIGSETXID (33) and waits until each handler has marked that
 * thread's descriptor done.  The handler finds "its" descriptor through
 * the thread pointer, which on an M running a G is the G's: it would mark
 * the wrong one and setuid() would wait forever.  Run it with the OS
 * thread's own descriptor in place.  glibc installs its handler with the
 * process's first real pthread_create (our first M), so we wrap it then. */
static void (*glibc_setxid)(int, siginfo_t *, void *);

static void setxid_tramp(int sig, siginfo_t *si, void *uc)
{
	int saved = errno;
	rt_sig_on_os_thread(glibc_setxid, sig, si, uc);
	errno = saved;
}

/* The kernel's struct sigaction (glibc refuses signal 33 to callers). */
struct ksigaction {
	void *handler;
	unsigned long flags;
	void *restorer;
	uint64_t mask;
};

void shim_wrap_setxid(void)
{
	static int done;
	if (__atomic_load_n(&done, __ATOMIC_ACQUIRE))
		return;
	struct ksigaction k;
	if (rt_syscall4(SYS_rt_sigaction, 33, NULL, &k, 8) != 0 ||
	    !(k.flags & SA_SIGINFO) || k.handler == SIG_DFL ||
	    k.handler == SIG_IGN)
		return;
	glibc_setxid = (void (*)(int, siginfo_t *, void *))k.handler;
	k.handler = (void *)setxid_tramp;
	rt_syscall4(SYS_rt_sigaction, 33, &k, NULL, 8);
	__atomic_store_n(&done, 1, __ATOMIC_RELEASE);
}

/* In the child of fork(): signals need routing there too (sysmon starts
 * again lazily in a child; start it now if the program handles any). */
void shim_signal_fork_child(void)
{
	if (__atomic_load_n(&tramp_on, __ATOMIC_SEQ_CST) || hook_has_handlers())
		rt_sig_enable();
}

/* ---- start-up ----------------------------------------------------------- */

/* After rt_init: learn the dispositions we inherited (SIG_IGN survives
 * exec), take over the signals the main thread inherited blocked, and
 * give M0 the common kernel mask. */
void shim_signal_init(void)
{
	for (int sig = 1; sig < NSIG; sig++) {
		if (!catchable(sig))
			continue;
		struct sigaction old;
		if (real.sigaction(sig, NULL, &old) != 0)
			continue;
		acts[sig].handler = (old.sa_flags & SA_SIGINFO)
					? (void *)old.sa_sigaction
					: (void *)old.sa_handler;
		acts[sig].flags = old.sa_flags;
		acts[sig].mask = shim_sigset_bits(&old.sa_mask);
		/* the runtime's own (SIGQUIT dumps...): not the program's */
		if (rt_pc_in_greenrun((uintptr_t)acts[sig].handler)) {
			acts[sig] = (struct act){SIG_DFL, 0, 0};
			continue;
		}
		/* a handler installed before us (another constructor) */
		if (acts[sig].handler != SIG_DFL &&
		    acts[sig].handler != SIG_IGN && sig != SIGURG &&
		    sig != SIGSEGV && sig != SIGBUS)
			install(sig);
	}
	/* the runtime's own SIGURG/SIGSEGV/SIGBUS handlers are in place
	 * already: the program's disposition of those starts as default */
	acts[SIGURG] = acts[SIGSEGV] = acts[SIGBUS] =
	    (struct act){SIG_DFL, 0, 0};
	rt_sighooks.deliver = hook_deliver;
	rt_sighooks.foreign = hook_foreign;
	rt_sighooks.has_handlers = hook_has_handlers;
	rt_sighooks.fault = hook_fault;
	rt_sighooks.async_point = shim_async_cancel_point;
	uint64_t inherited = rt_sigmask_get();
	for (int sig = 1; sig < NSIG; sig++)
		if ((inherited & BIT(sig)) && acts[sig].handler != SIG_IGN &&
		    !(tramp_on & BIT(sig)))
			install(sig);
	shim_wrap_setxid();
	shim_tid_base(); /* gettid's id base, read before any handler runs */
	rt_sig_kset_add(0); /* M0 now runs with the common kernel mask */
}
