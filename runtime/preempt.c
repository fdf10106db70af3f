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
 * with F_SETOWN).  Our handler keeps SA_RESTART, so a system call it
 * interrupts is restarted, never failed with EINTR; the scheduler keeps
 * SIGURG unblocked on every M.  A program that installs its own SIGURG
 * handler replaces ours: it then gets no preemption, nothing breaks.
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
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "atomic.h"
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

static void urg_handler(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	struct rt_g *g = rt_getg();
	if (!g || g->isg0 || !rt_load(&g->preempt))
		return;
	uintptr_t pc = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
	uintptr_t sp = (uintptr_t)uc->uc_mcontext.gregs[REG_RSP];
	if (!safe_pc(pc))
		return;
	/* room for the gap, 16 registers and the XSAVE area */
	size_t need = RT_PREEMPT_GAP + 16 * 8 + rt_xsave_size + 1024;
	if (!g->ismain && sp - need < g->stk.lo)
		return;
	rt_store(&g->preempt, false);
	uintptr_t e = sp - RT_PREEMPT_GAP;
	*(uint64_t *)e = pc;
	uc->uc_mcontext.gregs[REG_RSP] = (greg_t)e;
	uc->uc_mcontext.gregs[REG_RIP] = (greg_t)(uintptr_t)rt_asyncpreempt;
	rt_xadd(&rt_sched.npreempt, 1);
}

/* Called by rt_asyncpreempt on the preempted G with its state saved. */
void rt_preempt_entry(void) { rt_gopreempt(); }

void rt_preempt_init(void)
{
	rt_preempt_ns = rt_env_int("GREENRUN_PREEMPT_MS", 10, 0, 100000) * 1000000;
	if (!rt_preempt_ns)
		return;
	unsigned a, b, c, d;
	if (__get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 26)) &&
	    (c & (1u << 27)) && __get_cpuid_count(0xd, 0, &a, &b, &c, &d) &&
	    b >= 512) {
		rt_have_xsave = 1;
		rt_xsave_size = b + 64;
	}
	dl_iterate_phdr(text_cb, (void *)(uintptr_t)rt_preempt_init);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = urg_handler;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGURG, &sa, NULL);
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
	rt_syscall3(SYS_tgkill, rt_syscall0(SYS_getpid), m->tid, SIGURG);
}
