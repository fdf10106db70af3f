/*
 * preempt.c - asynchronous preemption of CPU-bound Gs (Go 1.14's design,
 * preempt.go / signal_unix.go, adapted to C code).
 *
 * sysmon notices a P whose schedtick has not moved for GREENRUN_PREEMPT_MS
 * (default 10 ms; 0 turns preemption off), marks the G running there
 * (g->preempt) and sends SIGURG to its M with tgkill.  The handler, on the
 * M's signal stack:
 *   - ignores the signal unless the interrupted context is that marked G
 *     (it may have switched meanwhile; g0 is never preempted);
 *   - refuses unsafe points: any PC inside libgreenrun (the runtime and
 *     the shim hold runtime locks and half-built state there), libc or
 *     ld.so (internal locks: malloc arenas, stdio, the loader lock), or
 *     the vDSO (the runtime reads the clock through it with runtime locks
 *     held: a G preempted there kept a wait-queue lock and the next G on
 *     its M deadlocked on it, tests/prog/preempt_vdso_lock.c).  A
 *     refused G stays marked and sysmon signals again ~1 ms later;
 *   - otherwise rewrites the interrupted context so the G "calls"
 *     rt_asyncpreempt (arch/x86_64/preempt.S) from where it was, past the
 *     red zone.  That saves all registers incl. x87/SSE/AVX/AVX-512 state
 *     (XSAVE, size from CPUID leaf 0xD), yields the G through g0 to the
 *     global run queue (so the P runs its timers and fairness checks), and
 *     later resumes it exactly where it stopped.
 * SIGURG is the signal Go chose: rarely used by programs (TCP urgent data
 * with F_SETOWN).  Ours are sent with rt_tgsigqueueinfo and a marker in
 * si_value (sig.c: rt_sig_kick_m), so the program's own SIGURGs (kill,
 * out-of-band data) are told apart and routed to its disposition
 * (rt_sighooks.foreign).  The same kick delivers pending signals to a
 * running G (g->asyncsig).  Our handler keeps SA_RESTART, so a system call
 * it interrupts is restarted, never failed with EINTR; the scheduler keeps
 * SIGURG unblocked on every M.
 * The same handler takes `greenrun dump PID` requests: a SIGURG sent with
 * sigqueue() (si_code SI_QUEUE) carrying RT_DUMP_MAGIC in si_value.sival_int
 * (dump.c), told apart from our kicks by their pointer marker.
 *
 * Rejected: preemption only at function calls or back-edges (needs
 * compiler cooperation: we run unmodified binaries); a plain yield in the
 * handler (switching stacks inside a signal handler leaves the kernel's
 * signal frame and altstack state behind).
 */
#include <cpuid.h>
#include <link.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "atomic.h"
#include "diag.h"
#include "internal.h"
#include "sys.h"

#define RT_PREEMPT_GAP 256 /* keep in sync with preempt.S */

void rt_asyncpreempt(void);

uint8_t rt_have_xsave;
size_t rt_xsave_size = 512 + 64;
int64_t rt_preempt_ns;

static struct {
	uintptr_t lo, hi;
} unsafe[32];
static int nunsafe;
static uintptr_t ours_lo, ours_hi; /* libgreenrun's text */
static int nours;

/* Is this dl_iterate_phdr entry the vDSO (its ELF header is the
 * AT_SYSINFO_EHDR page)? */
static bool is_vdso(const struct dl_phdr_info *info)
{
	uintptr_t ehdr = (uintptr_t)getauxval(AT_SYSINFO_EHDR);
	uintptr_t ph = (uintptr_t)info->dlpi_phdr;
	return ehdr && ph >= ehdr && ph < ehdr + 4096;
}

static int text_cb(struct dl_phdr_info *info, size_t size, void *data)
{
	const char *n = info->dlpi_name;
	bool ours = is_vdso(info);
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
			continue;
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
		if ((uintptr_t)data >= lo && (uintptr_t)data < lo + ph->p_memsz)
			ours = true;
	}
	if (ours) {
		for (int i = 0; i < info->dlpi_phnum; i++) {
			const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
			if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
				continue;
			ours_lo = info->dlpi_addr + ph->p_vaddr;
			ours_hi = ours_lo + ph->p_memsz;
			nours = 1;
		}
	}
	if (!ours && !strstr(n, "/libc.so") && !strstr(n, "/ld-linux"))
		return 0;
	for (int i = 0; i < info->dlpi_phnum && nunsafe < 32; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
			continue;
		unsafe[nunsafe].lo = info->dlpi_addr + ph->p_vaddr;
		unsafe[nunsafe].hi = unsafe[nunsafe].lo + ph->p_memsz;
		nunsafe++;
	}
	return 0;
}

static bool safe_pc(uintptr_t pc)
{
	for (int i = 0; i < nunsafe; i++)
		if (pc >= unsafe[i].lo && pc < unsafe[i].hi)
			return false;
	return true;
}

static char wake_marker; /* si_value of the wake-up timers' signals */

static void urg_handler(int sig, siginfo_t *si, void *ucv)
{
	bool wake = false;
	if (si->si_code == SI_TIMER && si->si_value.sival_ptr == &wake_marker) {
		/* a wake-up timer: preempt if a timer of this P is due */
		struct rt_g *g = rt_getg();
		struct rt_m *m = g ? g->m : NULL;
		if (!m)
			return;
		m->ptimer_when = 0;
		struct rt_p *p = m->p;
		int64_t w = p ? rt_load(&p->timer0when) : 0;
		if (g->isg0 || !w || w > rt_nanotime() || !rt_preempt_ns)
			return;
		/* Its G is inside a system call (rt_entersyscall): it is not
		 * computing, and if the call blocks sysmon hands the P, due
		 * timers and all, to another M.  Asking again every 100 us
		 * would only cut the call short each time (a timed futex
		 * wait ends with EINTR after any handler), and a wait loop
		 * that re-enters the call changes the P's syscalltick each
		 * time, so sysmon never saw it stay in the call: the P's
		 * timers and run queue starved for good with one P. */
		if (rt_load(&p->status) != P_RUNNING || rt_load(&m->oldp))
			return; /* (m->oldp: in a call, its P maybe taken over
				   by another M, proc.c) */
		rt_store(&g->preempt, true);
		rt_xadd(&rt_sched.nwakepreempt, 1);
		wake = true;
	} else if (si->si_code == SI_QUEUE &&
		   si->si_value.sival_int == RT_DUMP_MAGIC) {
		/* `greenrun dump PID`: sigqueue() with our magic (dump.c) */
		rt_dump_request(si->si_pid, DUMP_REQUEST);
		if (!rt_load(&rt_sched.sysmon_started)) /* no thread yet */
			rt_dump_serve();
		return;
	} else if (!rt_sig_is_kick(si)) { /* the program's SIGURG */
		if (rt_sighooks.foreign)
			rt_sighooks.foreign(sig, si, ucv);
		return;
	}
	ucontext_t *uc = ucv;
	rt_traceback_signal(ucv); /* a dump asked for this M's stack */
	struct rt_g *g = rt_getg();
	if (!g || g->isg0)
		return;
	bool pre = rt_load(&g->preempt), sg = rt_sig_deliverable(g);
	if (!pre && !sg)
		return;
	uintptr_t pc = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
	uintptr_t sp = (uintptr_t)uc->uc_mcontext.gregs[REG_RSP];
	/* room for the gap, 16 registers and the XSAVE area */
	size_t need = RT_PREEMPT_GAP + 16 * 8 + rt_xsave_size + 1024;
	if (!safe_pc(pc) || sp >= g->stk.hi || sp < g->stk.lo ||
	    sp - need < g->stk.lo) {
		/* An unsafe point (libc, greenrun), or off its stack (a
		 * handler on the signal stack), or too close to the bottom.
		 * A wake-up retries 100 us later (sysmon's 10 ms slice would
		 * otherwise be the next chance). */
		if (wake)
			rt_preempt_arm(g->m, rt_nanotime() + 50000);
		return;
	}
	rt_store(&g->preempt, false);
	g->asyncsig = sg;
	g->asyncpre = pre;
	uintptr_t e = sp - RT_PREEMPT_GAP;
	*(uint64_t *)e = pc;
	uc->uc_mcontext.gregs[REG_RSP] = (greg_t)e;
	uc->uc_mcontext.gregs[REG_RIP] = (greg_t)(uintptr_t)rt_asyncpreempt;
	if (pre)
		rt_xadd(&rt_sched.npreempt, 1);
}

/* Called by rt_asyncpreempt on the interrupted G with its state saved:
 * deliver its signals (handlers run here, in G context, as if called
 * from the interrupted instruction), then yield if preemption was asked. */
void rt_preempt_entry(void)
{
	struct rt_g *g = rt_getg();
	bool pre = g->asyncpre;
	g->asyncpre = false;
	if (g->asyncsig) {
		g->asyncsig = false;
		rt_sigcheck();
		if (rt_sighooks.async_point)
			rt_sighooks.async_point();
	}
	if (pre)
		rt_gopreempt();
}

/* rt_preempt_point's slow path (rt.h): the G was asked to yield. */
void rt_preempt_yield(void)
{
	if (rt_cannot_park())
		return;
	struct rt_g *g = rt_getg();
	if (!rt_xchg(&g->preempt, false))
		return;
	rt_xadd(&rt_sched.npreempt, 1);
	rt_gopreempt();
}

void rt_preempt_init(void)
{
	rt_preempt_ns = rt_env_int("GREENRUN_PREEMPT_MS", 10, 0, 100000) * 1000000;
	dl_iterate_phdr(text_cb, (void *)(uintptr_t)rt_preempt_init);
	/* installed even with preemption off: it also delivers signals and
	 * serves dump requests (then nothing is ever marked g->preempt) */
	unsigned a, b, c, d;
	if (__get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 26)) &&
	    (c & (1u << 27)) && __get_cpuid_count(0xd, 0, &a, &b, &c, &d) &&
	    b >= 512) {
		rt_have_xsave = 1;
		rt_xsave_size = b + 64;
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = urg_handler;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	rt_os.sigaction(SIGURG, &sa, NULL);
}

/* sysmon: ask the M running on p to preempt its G. */
void rt_preempt_p(struct rt_p *p)
{
	struct rt_m *m = rt_load(&p->m);
	if (!m)
		return;
	struct rt_g *g = rt_load(&m->curg);
	if (!g || g->isg0 || !m->tid)
		return;
	rt_store(&g->preempt, true);
	rt_sig_kick_m(m);
}

/* The kernel's struct sigevent for SIGEV_THREAD_ID. */
struct ksigevent {
	union sigval value;
	int signo;
	int notify;
	int tid;
	int pad[11];
};

void rt_preempt_minit(struct rt_m *m)
{
	m->ptimer = -1;
	m->ptimer_when = 0;
	if (!rt_preempt_ns)
		return;
	struct ksigevent ev;
	memset(&ev, 0, sizeof ev);
	ev.value.sival_ptr = &wake_marker;
	ev.signo = SIGURG;
	ev.notify = 4; /* SIGEV_THREAD_ID */
	ev.tid = (int)rt_syscall0(SYS_gettid);
	int id;
	if (rt_syscall3(SYS_timer_create, CLOCK_MONOTONIC, &ev, &id) == 0)
		m->ptimer = id;
}

void rt_preempt_arm(struct rt_m *m, int64_t when)
{
	if (m->ptimer < 0)
		return;
	if (m->ptimer_when && m->ptimer_when <= when &&
	    m->ptimer_when > rt_nanotime())
		return; /* fires earlier anyway */
	/* a little past the deadline: the timer must be due by then */
	int64_t at = when + 50000;
	struct itimerspec its = {{0, 0}, {at / 1000000000, at % 1000000000}};
	if (rt_syscall4(SYS_timer_settime, m->ptimer, TIMER_ABSTIME, &its,
			NULL) == 0)
		m->ptimer_when = at;
}

bool rt_pc_in_greenrun(uintptr_t pc)
{
	return nours > 0 && pc >= ours_lo && pc < ours_hi;
}
