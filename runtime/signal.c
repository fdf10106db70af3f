/*
 * signal.c - the runtime's own signal handling: stack overflow reports.
 *
 * Every M gets a sigaltstack (signals are per OS thread), and SIGSEGV /
 * SIGBUS are handled on it.  When the faulting address lies in the guard
 * (or unprotected gap) below a G's stack, the handler prints which thread
 * overflowed and its stack size, restores the default action and returns:
 * the faulting instruction runs again and the process dies of SIGSEGV, as
 * it would natively, but never silently.  Any other fault is passed to the
 * default action the same way.
 *
 * A program's own SIGSEGV/SIGBUS handler (shim/signal.c keeps it) runs
 * for any fault that is not an overflow (rt_sighooks.fault).  Async-signal-safe: rt_stack_find reads
 * only the append-only chunk registry; printing is rt_printf.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "diag.h"
#include "internal.h"
#include "sys.h"

#define ALTSTACK_BYTES (64 * 1024)

static void fault_handler(int sig, siginfo_t *si, void *uc)
{
	rt_dump_fault(); /* a dump reading a stack that changed: back to it */
	uintptr_t addr = (uintptr_t)si->si_addr;
	bool in_guard = false;
	if (si->si_code <= 0) { /* sent (kill, sigqueue), not a fault */
		if (rt_sighooks.fault && rt_sighooks.fault(sig, si, uc))
			return;
		struct sigaction d;
		memset(&d, 0, sizeof d);
		d.sa_handler = SIG_DFL;
		rt_os.sigaction(sig, &d, NULL);
		rt_syscall3(SYS_tgkill, rt_syscall0(SYS_getpid),
			    rt_syscall0(SYS_gettid), sig);
		return;
	}
	struct rt_g *g = rt_stack_find(addr, &in_guard);
	if (g && (in_guard || addr < g->stk.lo)) {
		rt_printf("greenrun: stack overflow in thread %lu \"%s\": "
			  "stack size %lu bytes, fault at %p below the stack "
			  "[%p, %p)\n",
			  (unsigned long)g->goid, g->name,
			  (unsigned long)g->stk.reqsize, (void *)addr,
			  (void *)g->stk.lo, (void *)g->stk.hi);
		/* a fatal error: show every thread (on the signal stack) */
		rt_dump(2, DUMP_FATAL, "stack overflow");
	} else if (rt_sighooks.fault && rt_sighooks.fault(sig, si, uc)) {
		return; /* the program's handler ran */
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	rt_os.sigaction(sig, &sa, NULL);
	/* returning re-executes the access, now fatal with the default action */
}

void rt_signal_init(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = fault_handler;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	rt_os.sigaction(SIGSEGV, &sa, NULL);
	rt_os.sigaction(SIGBUS, &sa, NULL);
}

/* Give the calling OS thread (M) an alternate signal stack. */
void rt_signal_minit(struct rt_m *m)
{
	void *p = mmap(NULL, ALTSTACK_BYTES, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return;
	stack_t ss = {.ss_sp = p, .ss_size = ALTSTACK_BYTES, .ss_flags = 0};
	if (sigaltstack(&ss, NULL) == 0)
		m->altstack = p;
	else
		munmap(p, ALTSTACK_BYTES);
}
