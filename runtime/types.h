/*
 * types.h - the core runtime types: G, M, P and the scheduler singleton.
 *
 * Vocabulary (Go's, see src/runtime/runtime2.go):
 *   G  a green thread: a saved register context, a stack slot, a glibc TLS
 *      block + TCB of its own, a status and a wait reason.
 *   M  an OS thread (created with the real pthread_create).  Each M has a
 *      g0: the context it runs the scheduler on (its native stack and TLS).
 *   P  a logical processor: a local run queue (ring + runnext) and a timer
 *      heap.  An M must hold a P to run Gs.  There are rt_sched.nprocs Ps.
 *
 * G status table.  "Owner" is who may touch the G's stack and ctx.
 *
 *   status        stack/ctx owner        on a queue?      who moves it out
 *   G_IDLE        nobody (slot free)     slot cache       rt_spawn
 *   G_RUNNABLE    nobody (ctx saved)     runq/runnext/    schedule() on an M
 *                                        globrunq         holding a P
 *   G_RUNNING     its M (g->m)           no               the G itself (park,
 *                                                         yield, exit)
 *   G_WAITING     nobody (ctx saved)     a wait structure rt_ready() by the
 *                                        (timer, joiner,  waker that won the
 *                                        wait queue)      wake token
 *   G_DEAD        nobody                 no               join / detach
 *                                                         frees the slot
 *
 * Transitions RUNNING->WAITING and RUNNING->RUNNABLE (yield) and
 * RUNNING->DEAD are made on the M's g0 after the G's context is saved
 * (rt_mcall protocol in proc.c), so a waker can never resume a G that is
 * still executing on its old stack.  WAITING->RUNNABLE is rt_ready().
 *
 * M states: running a G (m->curg != NULL), on g0 in schedule() with or
 * without a P, spinning (looking for work, counted in sched.nmspinning),
 * blocked in netpoll (at most one: sched.polling), or parked on m->park in
 * the idle list (sched.midle).
 *
 * P states: P_IDLE (on sched.pidle, no M), P_RUNNING (held by p->m).
 *
 * Lock order (runtime/lockrank.h has the ranks): p->timerlock before
 * sched.lock; slot class locks are leaves; a G's joinlock before sched.lock.
 * No runtime lock is ever held across a context switch except through the
 * park-unlock callback, which releases it on g0.
 */
#ifndef GREENRUN_TYPES_H
#define GREENRUN_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lock.h"

#ifndef RT_RUNQ_SIZE
#define RT_RUNQ_SIZE 256 /* local run queue ring; build knob (power of 2) */
#endif

/* Saved machine context of a switched-out G or g0.  Layout shared with
 * arch/x86_64/switch.S (offsets fixed there). */
struct rt_ctx {
	uint64_t rsp;    /* stack pointer after pushing callee-saved regs */
	uint64_t fsbase; /* thread pointer (TCB address) of this context */
};

enum rt_gstatus {
	G_IDLE = 0,
	G_RUNNABLE,
	G_RUNNING,
	G_WAITING,
	G_DEAD,
};

/* Why a G waits; shown in dumps.  Runtime-level names only. */
enum rt_waitreason {
	WAIT_NONE = 0,
	WAIT_SLEEP,
	WAIT_JOIN,
	WAIT_ONCE,
	WAIT_FUTEX,
	WAIT_YIELD,
	WAIT_IO,
	WAIT_SYNC,
	WAIT_SIGNAL,
	/* What a futex-style wait is for, passed by shim/ (dump.c names them;
	 * the deadlock check counts them as "only another thread wakes it"). */
	WAIT_MUTEX,
	WAIT_COND,
	WAIT_RWLOCK,
	WAIT_BARRIER,
	WAIT_SEM,
	WAIT_NREASONS,
};

struct rt_p;
struct rt_m;
struct rt_g;

/* A timer on a P's heap.  Guarded by the owning P's timerlock. */
struct rt_timer {
	int64_t when;            /* CLOCK_MONOTONIC ns */
	void (*f)(struct rt_timer *t); /* runs on the firing M, under timerlock */
	void *arg;
	int32_t idx;             /* heap index; -1 when not on a heap */
	struct rt_p *p;          /* heap it is on (atomic; NULL when off) */
};

/* Stack slot description.  Immutable while the G lives. */
struct rt_stack {
	uintptr_t lo;        /* lowest usable byte of the stack */
	uintptr_t hi;        /* top of usable stack (TLS/TCB/G lie above) */
	uintptr_t base;      /* start of the whole slot (guard first) */
	size_t size;         /* whole slot bytes */
	size_t guard;        /* bytes of PROT_NONE guard at base (0: canary) */
	size_t reqsize;      /* stack size the creator asked for */
	struct rt_slotclass *cls; /* NULL for user-provided stacks */
	bool user;           /* memory belongs to the program */
};

#define RT_G_MAGIC 0x47524e47u /* "GRNG" */
#define RT_G_SHIM_BYTES 1024   /* opaque per-thread area owned by shim/ */

struct rt_g {
	struct rt_ctx ctx;       /* owner: the G when running; else whoever
				    holds it per the status table */
	uint32_t magic;          /* RT_G_MAGIC while the slot is a live G */
	uint32_t status;         /* enum rt_gstatus; atomic */
	uint64_t goid;           /* unique id, never reused */
	struct rt_m *m;          /* M running it (G_RUNNING only) */
	struct rt_g *schedlink;  /* globrunq / free list link (owner of queue) */
	uint8_t waitreason;      /* enum rt_waitreason (G itself, then g0) */
	bool isg0;               /* scheduler context of an M */
	bool ismain;             /* the adopted main thread (G1) */
	bool preempt;            /* atomic: sysmon asks it to yield (preempt.c) */
	void *tp;                /* TCB address; also the pthread_t */
	struct rt_stack stk;
	int64_t waitsince;       /* rt_coarsetime() when it last parked
				    (rt_park; read racily by dump.c) */
	uintptr_t minsp;         /* lowest sp seen at switch-out */

	/* entry point (set by rt_spawn, read once by the G) */
	void *(*fn)(void *);
	void *arg;

	/* wake-once protocol: whoever flips wakeup 0->1 readies the G. */
	uint32_t wakeup;         /* atomic */
	int32_t wakeres;         /* RT_WOKEN / RT_TIMEDOUT, set by the waker */
	struct rt_timer timer;   /* sleep / timeout timer of this G */
	struct rt_g *waitnext;   /* links in a wait queue (guarded by its lock); */
	struct rt_g *waitprev;   /* both NULL when on none */
	void *waitaddr;          /* key of the wait queue it is on */
	uint32_t waitbits;       /* futex bitset it waits for (park.c) */
	uint8_t waithint;        /* enum rt_waitreason for the next futex
				    park (G itself; rt_futex_wait_why) */
	bool waitfront;          /* owner G: its next futex wait queues at the
				    front (a woken waiter that lost the
				    lock waits again first, as Go's
				    semacquire with lifo) */
	int32_t waitfd;          /* netpoll: the fd of a one-fd wait, or -n
				    for a wait on n fds; G itself, read
				    racily by dump.c */
	uint8_t waitmodes;       /* netpoll: RT_POLL_R/W of that wait */

	/* lifecycle, guarded by joinlock */
	rt_mutex joinlock;
	bool detached;
	bool exited;
	struct rt_g *joiner;     /* G parked in rt_join, if any */
	void *retval;

	uint64_t sigmask;        /* blocked signals 1..64 (bit n-1); only the
				    G itself writes (software mask: the M's
				    kernel mask is rt_sig_kset, sig.c) */
	uint64_t sigpending;     /* atomic: signals sent to this G, not yet
				    delivered (bit 31 = cancellation) */
	uint64_t sigproc;        /* atomic: of sigpending, those routed here
				    from the process (re-routed if it ends) */
	uint32_t sigran;         /* handlers rt_sigcheck ran on it; own G */
	uint64_t sigwaitset;     /* sigwait set while on sig.c's waiter list
				    (guarded by its siglock) */
	int32_t sigwaitgot;      /* signal a dispatcher gave the waiter */
	bool intr;               /* G itself: its current park may end with
				    RT_INTR when a signal is sent to it */
	bool asyncsig;           /* preempt.c: run rt_sigcheck at the async
				    entry (set by the SIGURG handler) */
	bool asyncpre;           /* preempt.c: yield at the async entry */
	struct rt_g *sigwnext;   /* sig.c waiter list (siglock) */
	struct rt_g *allnext;    /* rt_sched.allg list (allglock) */
	struct rt_g *allprev;
	char name[16];           /* pthread_setname_np; G itself */
	_Alignas(16) unsigned char shim[RT_G_SHIM_BYTES]; /* shim/'s area */
};

/* P_SYSCALL: its M is in a system call (rt_entersyscall); sysmon may CAS
 * it to P_IDLE and hand it to another M (handoff). */
enum { P_IDLE = 0, P_RUNNING = 1, P_SYSCALL = 2 };

struct rt_p {
	int32_t id;
	uint32_t status;         /* P_IDLE / P_RUNNING / P_SYSCALL; atomic:
				    IDLE<->RUNNING under sched.lock, SYSCALL
				    leaves by CAS (owner M or sysmon) */
	struct rt_m *m;          /* holder; NULL when idle or in a system
				    call (P_SYSCALL: the M that leaves its
				    call first takes it, proc.c) */
	struct rt_p *link;       /* sched.pidle list; guarded by sched.lock */
	uint32_t schedtick;      /* owner M only; read racily by sysmon */
	uint32_t syscalltick;    /* owner M increments per syscall; sysmon reads */
	uint64_t nsteal;         /* Gs this P stole (owner M; stats.c reads) */

	/* Local run queue: single producer (owner), many consumers (stealers).
	 * head is advanced by CAS (consumers); tail stored by owner (release).
	 * As Go's runq, proc.go. */
	uint32_t runqhead;       /* atomic */
	uint32_t runqtail;       /* atomic; owner writes */
	struct rt_g *runnext;    /* atomic; owner puts, anyone CASes away */
	struct rt_g *runq[RT_RUNQ_SIZE];

	/* Timer heap, guarded by timerlock.  timer0when mirrors the earliest
	 * deadline (0: none) for lock-free checks; written under timerlock. */
	rt_mutex timerlock;
	struct rt_timer **timers;
	int32_t ntimers, timercap;
	int64_t timer0when;      /* atomic */
};

struct rt_m {
	int32_t id;
	pid_t tid;               /* kernel tid; immutable after start */
	struct rt_g *g0;         /* scheduler context; immutable */
	struct rt_g *curg;       /* G running on this M; owner M only */
	struct rt_p *p;          /* P held; owner M only */
	struct rt_p *nextp;      /* P handed over by startm; guarded by park */
	struct rt_p *oldp;       /* P it had when it entered a syscall */
	bool spinning;           /* owner M; mirrored in sched.nmspinning */
	uint32_t park;           /* futex note: 0 asleep, 1 woken */
	struct rt_m *schedlink;  /* sched.midle list; guarded by sched.lock */
	uint32_t fastrand;       /* owner M */
	int32_t locks;           /* runtime locks held (preemption check) */
	void *native_tp;         /* TCB of g0 */

	/* Action for the G that just switched out (mcall protocol): run by
	 * g0 (after_switch) or, after a direct G-to-G switch, by the G that
	 * was switched to (run_pending), before anything else.  Owner M. */
	void (*mcallfn)(struct rt_g *g, void *arg);
	void *mcallarg;
	struct rt_g *pendg;      /* switched-out G awaiting mcallfn, or NULL */
	struct rt_m *alllink;    /* sched.allm list; append-only */
	int64_t lastresend;      /* sysmon only: last signal copy sent to end
				    this M's system call (sig.c) */
	char *altstack;          /* sigaltstack for this M */
	uint64_t sigmask;        /* kernel signal mask of this OS thread;
				    owner M only */
	/* Wake-up preemption (preempt.c): a kernel POSIX timer that sends
	 * this OS thread our marked SIGURG when the earliest timer of its P
	 * falls due while a G runs.  Owner M only. */
	int ptimer;              /* kernel timer id, -1: none */
	int64_t ptimer_when;     /* armed deadline (ns), 0: disarmed */
	/* diagnostics (stats.c, trace.c); owner M only, read racily */
	uint64_t nswitch;        /* Gs this M started running */
	uint64_t npollwait;      /* netpoll parks of Gs on this M */
	struct rt_tracebuf *tb;  /* trace buffer, NULL when tracing is off */
	int64_t tr_runstart;     /* trace: when curg started running */
	int64_t tr_sysstart;     /* trace: when curg entered a syscall */
	/* The running G's stack for a dump (traceback.c): the dumper sets
	 * tbg and tbreq, then signals this M; its SIGURG handler unwinds the
	 * interrupted context into tbips/tbn and stores tbdone = tbreq. */
	struct rt_g *tbg;        /* atomic; dumper writes */
	uint32_t tbreq;          /* atomic; dumper writes */
	uint32_t tbdone;         /* atomic; handler writes (release) */
	int32_t tbn;             /* handler writes before tbdone */
	uintptr_t tbips[32];     /* RT_TB_FRAMES; handler writes */
};

struct rt_sched {
	rt_mutex lock;           /* guards the fields below marked (L) */
	struct rt_g *runqhead;   /* (L) global run queue: the runnable Gs */
	struct rt_g *runqwoken;  /* (L) last of them before the preempted
				    ones (NULL: none), see runq.c */
	struct rt_g *runqtail;   /* (L) */
	int32_t runqsize;        /* (L) writes; racy reads allowed */
	struct rt_p *pidle;      /* (L) idle Ps */
	int32_t npidle;          /* atomic; (L) writes */
	struct rt_m *midle;      /* (L) idle Ms */
	int32_t nmidle;          /* (L) */
	int32_t mcount;          /* (L) Ms created */
	int32_t nmspinning;      /* atomic */
	int32_t polling;         /* atomic: an M is in blocking netpoll */
	int64_t polluntil;       /* atomic: its deadline (0: computing) */
	int64_t lastpoll;        /* atomic: when a netpoll last returned, ns
				    (sysmon polls when it grows old) */

	int32_t nprocs;          /* immutable after init */
	struct rt_p *allp;       /* immutable after init: nprocs Ps */
	struct rt_m *allm;       /* append-only list (atomic head) */
	int64_t ngoid;           /* atomic goid counter */
	int64_t nlive;           /* atomic: program Gs not yet exited */
	int32_t maxmcount;       /* GREENRUN_MAXTHREADS; immutable */
	uint32_t sysmon_started; /* atomic */
	int64_t nhandoff;        /* atomic statistics: Ps retaken by sysmon */
	int64_t npreempt;        /* atomic statistics: async preemptions */
	int64_t nwakepreempt;    /* atomic statistics: of which asked for by
				    a due timer (wake-up preemption) */
	int64_t ngcreated;       /* atomic statistics */
	rt_mutex allglock;       /* guards allg and the G allnext/allprev */
	struct rt_g *allg;       /* live program Gs, G1 first (signal targets,
				    dumps); a G leaves it when it exits */
	size_t defstack;         /* default usable stack bytes; immutable */
};

extern struct rt_sched rt_sched;

#endif
