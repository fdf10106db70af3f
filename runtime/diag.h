/*
 * diag.h - "see inside": thread dumps (dump.c), the deadlock check
 * (deadlock.c), statistics and schedtrace (stats.c) and the event trace
 * (trace.c).  Runtime-internal API; shim/ only sets rt_waitdesc.
 *
 * Everything here is read-mostly and off the hot paths: the scheduler
 * calls the trace hooks only behind `if (rt_trace_on)` (one predictable
 * branch on a global byte when tracing is off) and bumps plain per-M/P
 * counters.
 */
#ifndef GREENRUN_DIAG_H
#define GREENRUN_DIAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "rt.h"
#include "types.h"

/* ---- dump.c ------------------------------------------------------------ */

/* Why a dump is printed (its title line). */
enum rt_dump_why {
	DUMP_REQUEST,  /* greenrun dump PID */
	DUMP_SIGQUIT,  /* SIGQUIT with GREENRUN_SIGQUIT_DUMP=1 */
	DUMP_DEADLOCK, /* deadlock.c: all threads are blocked */
	DUMP_FATAL,    /* rt_throw */
	DUMP_EXIT,     /* GREENRUN_STATS=1 leak report: only blocked threads */
};

/*
 * rt_dump: write a thread dump to fd: every G with id, name, state and
 * wait reason, how long it has waited, and its stack (function+offset and
 * object, unwound with libunwind from the G's saved context), identical
 * (state, reason, stack) grouped into one entry with a count.
 *
 * Running Gs are listed without a stack (their registers live on another
 * OS thread), except the calling thread itself, which is unwound in place
 * (skipping skip_self frames).  Gs are read without locks while they may
 * change: a stack that changed while it was read is dropped, and a fault
 * while unwinding is caught (rt_dump_fault) and ends that stack.
 *
 * Allocates with mmap only (safe after heap corruption); takes no runtime
 * lock.  One dump at a time per process (others wait on a spin flag).
 * Callable from a G, from g0, from sysmon or from a signal handler
 * (best effort there).  As Go's traceback of all goroutines (traceback.go)
 * but grouped, as Java's jstack/pstack-style tools are not.
 */
void rt_dump(int fd, enum rt_dump_why why, const char *detail);

/* Async-signal-safe: ask for a dump.  requester: pid of a `greenrun dump`
 * waiting on its abstract socket "greenrun-dump.<pid>", or 0 (stderr). */
void rt_dump_request(pid_t requester, enum rt_dump_why why);

/* sysmon, every round: serve dump requests, run the deadlock check,
 * print schedtrace lines.  now: CLOCK_MONOTONIC ns. */
void rt_diag_poll(int64_t now);

/* From the SIGSEGV/SIGBUS handler: if the fault happened while the dump
 * was reading another G's stack, jump back into the dump (never returns
 * then).  Returns otherwise. */
void rt_dump_fault(void);

/* shim/ may describe a wait object for dumps ("mutex 0x... held by thread
 * 4"): fills buf, returns its length (0: nothing to add).  Set once at
 * start-up; may be called with any address (must not fault on it: the
 * object lies in the waiter's memory, which is alive while it waits). */
extern int (*rt_waitdesc)(int why, void *addr, char *buf, size_t len);

/* Name of a wait reason ("mutex", "IO wait"...). */
const char *rt_waitreason_name(int why);

/* Start-up: read GREENRUN_SIGQUIT_DUMP, GREENRUN_DEADLOCK,
 * GREENRUN_STATS, GREENRUN_SCHEDTRACE, GREENRUN_TRACE.  From rt_init. */
void rt_diag_init(void);

/* Call fn for every G (program threads, not g0s) whose slot currently
 * holds a live G (magic set), without locks: the G may change meanwhile.
 * stack.c walks its chunks; proc.c adds G1 and user-stack Gs. */
void rt_stack_foreach(void (*fn)(struct rt_g *g, void *arg), void *arg);
void rt_foreach_g(void (*fn)(struct rt_g *g, void *arg), void *arg);

/* CLOCK_MONOTONIC ns as of sysmon's last round (20 us .. 10 ms old; 0
 * before sysmon starts).  rt_park stamps g->waitsince with it: one load
 * instead of a clock read on every park.  Written by sysmon only. */
extern int64_t rt_coarse_now;
static inline int64_t rt_coarsetime(void)
{
	int64_t t = __atomic_load_n(&rt_coarse_now, __ATOMIC_RELAXED);
	return t ? t : rt_nanotime(); /* no sysmon yet: rare */
}

/* sysmon: serve a pending dump request; returns its kind or -1. */
int rt_dump_serve(void);
/* Magic si_value.sival_int of a dump request (sigqueue SIGURG). */
#define RT_DUMP_MAGIC 0x47524450 /* "GRDP" */
/* True when ip lies in libgreenrun.so (our own handlers). */
bool rt_ip_is_ours(uintptr_t ip);

/* ---- traceback.c (used by dump.c, under its dumplock) ------------------ */
#define RT_TB_FRAMES 32                 /* frames kept per stack */
enum { RT_TB_FAULT = 8, RT_TB_NEW = 16 }; /* flags (dump.c's F_ values) */

/* Program counters of a G that is not running, from the context at rsp
 * (its ctx.rsp, read once by the caller), innermost first; at most
 * RT_TB_FRAMES.  Sets RT_TB_NEW for a G that never ran (0 frames),
 * RT_TB_FAULT when a fault cut the walk short.  As Go's gentraceback for
 * a parked goroutine (traceback.go), through libunwind. */
int rt_traceback_saved(struct rt_g *g, uint64_t rsp, uintptr_t *ips,
		       uint8_t *flags);
/* The calling thread's own stack, skipping its caller's `skip` frames. */
int rt_traceback_self(uintptr_t *ips, int skip, uint8_t *flags);
/* The stack of g, running on m, taken by m itself in its SIGURG handler
 * (rt_traceback_signal).  -1 when m's thread is asleep in the kernel
 * (signalling it could make a system call fail with EINTR), 0 when it did
 * not answer within ~20 ms or had switched to another G. */
int rt_traceback_running(struct rt_m *m, struct rt_g *g, uintptr_t *ips);
/* From greenrun's SIGURG handler, with the handler's ucontext. */
void rt_traceback_signal(void *uc);
/* Drop greenrun's frames at the top (keeping the entry point the program
 * called) and bottom of a stack; returns the new count. */
int rt_traceback_trim(uintptr_t *ips, int n);

/* Function name, offset and object (basename) of a program counter;
 * name empty when unknown (then off is from the object's base). */
struct rt_sym {
	uintptr_t off;
	char name[80];
	char obj[40];
};
void rt_symbolize(uintptr_t ip, struct rt_sym *s);

/* ---- deadlock.c -------------------------------------------------------- */
/* Start sysmon now if the deadlock check is on (a synchronisation wait in
 * a program that has not created a thread yet).  Idempotent. */
void rt_diag_need_sysmon(void);
/* sysmon: check for a deadlock (every G blocked on synchronisation and
 * nothing that could wake one).  Reports once per stuck state. */
void rt_deadlock_check(int64_t now);
extern int rt_deadlock_mode; /* 0 off, 1 report, 2 abort (exit 2) */
/* True once the program installed a signal handler of its own (a handler
 * may post a semaphore: sem waits are then not a proven deadlock).  Set
 * by shim/ (sigaction/signal interposition), read by deadlock.c. */
extern uint32_t rt_prog_has_handlers;

/* ---- stats.c ----------------------------------------------------------- */
struct rt_stats {
	int64_t peaklive;     /* atomic max of live program threads */
	int64_t stackbytes;   /* atomic: stack slot bytes of live Gs */
	int64_t peakstack;    /* atomic max of stackbytes */
	int64_t nstackgc;     /* atomic: slots given back (MADV_DONTNEED) */
};
extern struct rt_stats rt_stats;
extern bool rt_stats_on;          /* GREENRUN_STATS=1; immutable */
extern int64_t rt_schedtrace_ns;  /* GREENRUN_SCHEDTRACE; immutable */

/* A G was created: nlive is the new count of live Gs. */
static inline void rt_stats_spawn(int64_t nlive)
{
	int64_t p = __atomic_load_n(&rt_stats.peaklive, __ATOMIC_RELAXED);
	while (nlive > p &&
	       !__atomic_compare_exchange_n(&rt_stats.peaklive, &p, nlive,
					    true, __ATOMIC_RELAXED,
					    __ATOMIC_RELAXED))
		;
}
void rt_stats_stack(int64_t delta);
/* Print the schedtrace line (sysmon). */
void rt_schedtrace(int64_t now);
/* The exit report: counters, then the leak report (blocked threads). */
void rt_stats_report(void);

/* ---- trace.c ----------------------------------------------------------- */
enum rt_trace_ev {
	TR_CREATE,    /* g created by arg (creator's goid) */
	TR_START,     /* g starts running on this M/P */
	TR_BLOCK,     /* g parks; arg = wait reason */
	TR_YIELD,     /* g yields */
	TR_PREEMPT,   /* g preempted */
	TR_END,       /* g ends */
	TR_UNBLOCK,   /* g readied; arg = waker goid (0: runtime) */
	TR_SYSCALL,   /* g enters a system call */
	TR_SYSRET,    /* g leaves it */
	TR_POLL,      /* M blocked in netpoll; arg = Gs readied, dur set */
	TR_HANDOFF,   /* sysmon retook P arg from a syscall */
	TR_STACKGC,   /* a stack slot's memory went back; arg = bytes */
};
extern uint8_t rt_trace_on; /* GREENRUN_TRACE set; immutable after init */
void rt_trace(struct rt_m *m, int ev, struct rt_g *g, uint64_t arg);
/* start: rt_trace_stamp() taken before the blocking poll */
void rt_trace_poll(struct rt_m *m, int64_t start, int n);
int64_t rt_trace_stamp(void);
void rt_trace_sysmon(int ev, uint64_t arg);
void rt_trace_finish(void);
#define RT_TRACE(m, ev, g, arg)                                                \
	do {                                                                   \
		if (__builtin_expect(rt_trace_on, 0))                          \
			rt_trace((m), (ev), (g), (arg));                       \
	} while (0)

#endif
