/*
 * internal.h - declarations shared between runtime/ files, and the
 * test-only window the Check unit tests link against.  shim/ must use rt.h.
 */
#ifndef GREENRUN_INTERNAL_H
#define GREENRUN_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rt.h"
#include "types.h"

/* ---- tls.c ------------------------------------------------------------ */
/* Probed glibc facts; immutable after rt_tls_probe. */
struct rt_tlsinfo {
	void *main_tp;
	size_t static_size, static_align, tcb_size, align;
	size_t area; /* bytes a slot top needs for G + TCB + static TLS */
	size_t off_tid, off_list, off_specific, off_specific1st;
	size_t off_robust;
	long robust_futex_offset;
	size_t off_stackblock, off_res, off_cleanup_jmp_buf, off_rseq;
	ptrdiff_t off_curg;     /* our rt_curg_tls within any block */
	ptrdiff_t libc_tls_off; /* libc's TLS block, relative to tp */
	size_t libc_tls_size;
	long off_tcache, off_arena; /* in libc's block; -1 if unknown */
};
extern struct rt_tlsinfo rt_tls;
extern uint8_t rt_have_fsgsbase;
extern __thread struct rt_g *rt_curg_tls;

const char *rt_tls_probe(void);
const char *rt_tls_check_native(void);
struct rt_g *rt_tls_layout(uintptr_t top, void **tpp, uintptr_t *stack_hi);
int rt_tls_init(void *tp, bool reuse, pid_t faketid, uintptr_t stacklo,
		size_t stacksize, size_t guard);
void rt_tls_release(void *tp);
void rt_tls_set_curg(void *tp, struct rt_g *g);
void rt_tls_gstart(void *tp);
void rt_tls_get_tcache(void *tp, void **tcache, void **arena);
void rt_tls_set_tcache(void *tp, void *tcache, void *arena);
void rt_tls_fork_child(void *g_tp, void *native_tp, pid_t tid, bool gmain);
void rt_tls_probe_tcache_prepare(void);
void rt_tls_probe_tcache_body(void *tp);
void rt_tls_probe_tcache_done(void);

/* ---- stack.c ---------------------------------------------------------- */
struct rt_slotclass;
void rt_stack_init(void);
struct rt_g *rt_stack_alloc(size_t stack, size_t guard, int *err);
struct rt_g *rt_stack_user(void *addr, size_t size, int *err);
void rt_stack_free(struct rt_g *g);
void rt_stack_free_slot(struct rt_slotclass *c, uintptr_t base, void *tp,
			struct rt_g *g, bool deep, bool guarded);
struct rt_g *rt_stack_find(uintptr_t addr, bool *in_guard);
/* proc.c: registry of Gs on program-provided stacks, and G1 */
void rt_user_register(struct rt_g *g);
void rt_user_unregister(struct rt_g *g);
struct rt_g *rt_user_find(uintptr_t addr, bool *in_guard);
struct rt_g *rt_g_special(void *tp);

/* ---- switch.S --------------------------------------------------------- */
void rt_ctx_switch(struct rt_ctx *from, const struct rt_ctx *to);
void rt_ctx_start(void);
/* Build a fresh context on [.., top) that will call fn(arg). */
void rt_ctx_make(struct rt_ctx *c, uintptr_t top, void *tp,
		 void (*fn)(void *), void *arg);

/* ---- runq.c ----------------------------------------------------------- */
void rt_runqput(struct rt_p *p, struct rt_g *g, bool next);
struct rt_g *rt_runqget(struct rt_p *p);
bool rt_runqempty(struct rt_p *p);
struct rt_g *rt_runqsteal(struct rt_p *p, struct rt_p *victim, bool stealnext);
/* The global queue (runq.c; sched.lock held for all): put g, or the list
 * head..tail of n Gs, at the end of the woken run; put a preempted g at the
 * very end; take the oldest preempted G (NULL: none). */
void rt_globrunqput(struct rt_g *g);
void rt_globrunqputbatch(struct rt_g *head, struct rt_g *tail, int n);
void rt_globrunqput_preempted(struct rt_g *g);
struct rt_g *rt_globrunqget_preempted(void);
struct rt_g *rt_globrunqget(struct rt_p *p, int max); /* sched.lock held */
uint32_t rt_runqlen(struct rt_p *p);

/* ---- timer.c ---------------------------------------------------------- */
void rt_timer_add(struct rt_p *p, struct rt_timer *t);
bool rt_timer_del(struct rt_timer *t);
/* Run p's expired timers; returns the next deadline or 0. */
int64_t rt_timers_run(struct rt_p *p, int64_t now);

/* ---- netpoll.c -------------------------------------------------------- */
int rt_netpoll_init(void);
/* Wait up to delay ns (-1 forever, 0 poll); returns readied Gs as a list
 * linked by schedlink, count in *n. */
struct rt_g *rt_netpoll(int64_t delay, int *n);
void rt_netpoll_break(void);
/* Number of Gs parked waiting for fd readiness (atomic read). */
int32_t rt_netpoll_waiters(void);

/* ---- proc.c ----------------------------------------------------------- */
struct rt_m *rt_getm(void);
void rt_wakep(void);
void rt_injectglist(struct rt_g *list, int n);
void rt_throw(const char *msg) __attribute__((noreturn));
void rt_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
uint32_t rt_fastrand(void);
int rt_snprintf(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

void rt_handoffp(struct rt_p *p);

void rt_park_fork_child(void);
void rt_stack_fork_child(void);
void rt_netpoll_fork_child(void);

/* ---- preempt.c -------------------------------------------------------- */
extern int64_t rt_preempt_ns; /* 0: off */
void rt_preempt_init(void);
void rt_preempt_p(struct rt_p *p);
/* Wake-up preemption: create m's kernel timer (on m's OS thread), and
 * arm it for deadline `when` (monotonic ns) unless it fires earlier. */
void rt_preempt_minit(struct rt_m *m);
void rt_preempt_arm(struct rt_m *m, int64_t when);
void rt_gopreempt(void); /* proc.c: yield to the global queue via g0 */

/* ---- sig.c (sysmon's side) -------------------------------------------- */
/* Repeat the copies that end a G's system call for a signal pending on it
 * (sig.c: resend); sysmon, each round.  _active: worth a round within
 * 1 ms. */
void rt_sig_resend_scan(int64_t now);
bool rt_sig_resend_active(void);

/* ---- sysmon.c --------------------------------------------------------- */
void rt_sysmon_start(void);

/* ---- env.c ------------------------------------------------------------ */
int rt_env_procs(void);
size_t rt_env_size(const char *name, size_t def);
int rt_ncpu(void);

/* ---- sig.c ------------------------------------------------------------ */
extern uint32_t rt_sig_note;  /* sysmon's futex note (1: signals to route) */
extern uint64_t rt_sig_kset;  /* signals every M keeps blocked */
/* sysmon: route process-directed signals that arrived (under siglock). */
void rt_sig_dispatch(void);
/* True when g has a signal (or cancellation) it does not block pending. */
bool rt_sig_deliverable(struct rt_g *g);
/* Send our marked SIGURG to m: it preempts or delivers signals there. */
void rt_sig_kick_m(struct rt_m *m);
void rt_sig_kick_tid(pid_t tid);
void rt_sig_fork_child(void);
void rt_sig_gexit(struct rt_g *g);
/* proc.c: give m's OS thread the kernel mask rt_sig_kset (owner M). */
void rt_apply_kmask(struct rt_m *m);
void rt_ready(struct rt_g *g);
struct rt_m *rt_m0(void); /* the M of the main OS thread */
bool rt_sysmon_running(void);

/* ---- signal.c --------------------------------------------------------- */
void rt_signal_init(void);
void rt_signal_minit(struct rt_m *m);

#endif
