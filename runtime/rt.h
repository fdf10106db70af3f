/*
 * rt.h - the runtime API that shim/ calls.  It speaks of Gs, parking,
 * deadlines and stacks; POSIX names and error conventions belong to shim/.
 *
 * Units: deadlines and times are CLOCK_MONOTONIC nanoseconds (int64_t);
 * sizes are bytes.  Functions returning int return 0 or a positive errno
 * value, never -1/errno.
 *
 * Thread-safety: every function may be called from any G.  None may be
 * called from a signal handler unless it says so.
 */
#ifndef GREENRUN_RT_H
#define GREENRUN_RT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <signal.h>

#include "types.h"

/* Hooks into the real C library that only shim/ may resolve (the runtime
 * never calls a public pthread name).  Filled before rt_init. */
struct rt_os {
	/* create a detached OS thread running fn(arg) with a stack of
	 * `stack` bytes; returns 0 or an errno value */
	int (*thread_create)(void *(*fn)(void *), void *arg, size_t stack);
	/* the C library's own sigaction (ours is interposed) */
	int (*sigaction)(int sig, const struct sigaction *act,
			 struct sigaction *old);
};
extern struct rt_os rt_os;

/* Start the runtime and adopt the calling (main) thread as G1.  Returns
 * NULL, or a message saying why greenrun cannot run in this process (the
 * shim then prints it and exits).  Idempotent; not thread-safe (called from
 * the constructor before other threads exist). */
const char *rt_init(void);
/* Inline: every interposed call asks (shim_check), a function call each
 * time cost ~1 ns of a 7 ns uncontended lock/unlock. */
static inline bool rt_started(void)
{
	extern bool rt_started_flag;
	return __atomic_load_n(&rt_started_flag, __ATOMIC_RELAXED);
}

/* The running G.  Never NULL once rt_init succeeded (on g0 returns g0). */
static inline struct rt_g *rt_getg(void)
{
	extern __thread struct rt_g *rt_curg_tls;
	return rt_curg_tls;
}

/* True when the caller cannot park: it runs on a scheduler context (g0),
 * or off its G's stack (a program's SIGSEGV handler on the signal stack,
 * a coroutine stack of the program's own).  Blocking calls then block the
 * OS thread instead (the G keeps its M).  Async-signal-safe. */
static inline bool rt_cannot_park(void)
{
	struct rt_g *g = rt_getg();
	if (!g || g->isg0)
		return true;
	uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
	return sp < g->stk.lo || sp >= g->stk.hi;
}

/* A cooperative preemption point (as Go's check at function entry): yield
 * if sysmon or a wake-up timer asked the calling G to (g->preempt) and it
 * can park.  For shim entry points a program may call in a tight loop
 * (mutex lock/unlock): the signal asking for preemption then nearly always
 * lands inside greenrun or in a system call it makes, where the handler
 * refuses to switch (preempt.c), and the loop kept its P for good (Open
 * POSIX pthread_cond_timedwait/2-5 with one P: main polling a counter
 * under a mutex while the threads that would raise it never ran).  Call
 * only where the G could park: at the top level of an entry point, no
 * runtime lock held, not in a vfork child.  One TLS load and a predicted
 * branch when nobody asked. */
void rt_preempt_yield(void);
static inline void rt_preempt_point(void)
{
	struct rt_g *g = rt_getg();
	if (__builtin_expect(g && __atomic_load_n(&g->preempt, __ATOMIC_RELAXED),
			     0))
		rt_preempt_yield();
}

/* Should a G that found a lock taken spin before parking?  As Go's
 * sync_runtime_canSpin (proc.go): only with more than one P, and only
 * while every other P is busy running Gs; an idle or spinning P means
 * the holder is probably not running (spinning for it is wasted) or
 * there is spare CPU the wake-up can use.  (Go also refuses when the
 * caller's own runq is not empty; here that made 4 threads on 2 Ps park
 * and wake ten times more and cost 35 ns a lock+unlock instead of 17.)
 * Thread-safe; a hint, read without locks. */
bool rt_canspin(void);

/* An integer GREENRUN_* setting from the environment, in [min, max]; def
 * when unset; a bad value prints a warning and gives def (env.c). */
long rt_env_int(const char *name, long def, long min, long max);

/* In the child of fork(): rebuild the runtime around the calling thread,
 * the only one that exists there.  Called from the atfork child handler. */
void rt_after_fork_child(void);

/* ---- G lifecycle ------------------------------------------------------- */
struct rt_spawn_attr {
	size_t stacksize;   /* usable stack bytes; 0 = default */
	size_t guardsize;   /* bytes of guard below the stack */
	void *stackaddr;    /* program-provided stack (lowest address) or NULL */
	size_t stackaddr_size;
	bool detached;
	bool has_sigmask;       /* start with sigmask, else the creator's */
	uint64_t sigmask;
	const void *shimdata;   /* copied into g->shim before the G can run */
	size_t shimlen;
	void **tp_out;          /* receives the pthread_t before the G can run */
};

/* Create a runnable G that runs fn(arg) and then rt_gexit(its result).
 * Returns 0 and *out, EAGAIN (no memory/address space), EINVAL (stack
 * too small).  The new G gets its own TLS; it runs on this P next. */
int rt_spawn(void *(*fn)(void *), void *arg, const struct rt_spawn_attr *a,
	     struct rt_g **out);

/* End the calling G with `retval`.  The caller has already run every
 * program-visible destructor.  Never returns.  When it was the last live
 * program thread (main already exited), the process exits with status 0. */
void rt_gexit(void *retval) __attribute__((noreturn));

/* Wait for g to end.  deadline: -1 forever, 0 try only (EBUSY), else
 * absolute monotonic ns (ETIMEDOUT).  EINVAL: detached or already being
 * joined; EDEADLK: g is the caller; EINTR: interrupted (rt_intr).  On 0, *retval (if non-NULL) gets the
 * value and g's memory is released. */
int rt_join(struct rt_g *g, int64_t deadline, void **retval);

/* Mark g detached (its memory goes when it ends).  EINVAL if already. */
int rt_detach(struct rt_g *g);

/* The live G whose pthread_t (TCB address) is tp, or NULL. */
struct rt_g *rt_g_from_tp(void *tp);

/* The innermost cleanup buffer glibc's __pthread_register_cancel recorded
 * in the calling G's TCB (cleanup_jmp_buf), or NULL. */
void *rt_tcb_cleanup_buf(void);

/* True when addr lies in a green thread's stack slot (memory that is
 * certainly private to this process).  Lock-free, async-signal-safe. */
bool rt_addr_is_stack(uintptr_t addr);

/* The main thread's G (G1), or NULL once it has ended. */
struct rt_g *rt_g_main(void);
/* The first live G whose goid % mod == v, or NULL (walks every live G:
 * slow). */
struct rt_g *rt_g_find_goid(uint64_t v, uint64_t mod);

/* Count of program threads that have not ended. */
int64_t rt_nlive(void);

/* Stack of g: [*lo, *lo + *size) and the size the creator asked for. */
void rt_g_stack(struct rt_g *g, uintptr_t *lo, size_t *size, size_t *guard);

/* ---- signals (sig.c) ----------------------------------------------------
 * Signal sets are uint64_t with signal n at bit n-1.  Signal 32 (glibc's
 * SIGCANCEL, never a program signal) is used for cancellation requests:
 * it is never blocked and its "handler" is rt_sighooks.deliver(32). */
#define RT_SIGCANCEL 32
#define RT_SIGCANCEL_BIT (1ull << (RT_SIGCANCEL - 1))

#include <signal.h>

struct rt_sighooks {
	/* Run the program's action for sig on the calling G (G context, no
	 * runtime lock held).  Returns RT_SIG_RAN if a handler ran, plus
	 * RT_SIG_RESTART when every such handler had SA_RESTART. */
	int (*deliver)(int sig, const siginfo_t *si);
	/* A SIGURG that is not greenrun's kick: route it as a program
	 * signal (signal-handler context). */
	void (*foreign)(int sig, siginfo_t *si, void *uc);
	/* A SIGSEGV/SIGBUS that is not a stack overflow: run the program's
	 * handler (true) or ask for the default action (false). */
	bool (*fault)(int sig, siginfo_t *si, void *uc);
	/* Has the program a handler installed for any signal? (the
	 * deadlock check: a handler may post a semaphore) */
	bool (*has_handlers)(void);
	/* Called on the G at an asynchronous delivery point (program code
	 * was interrupted there): asynchronous cancellation acts here. */
	void (*async_point)(void);
};
enum { RT_SIG_RAN = 1, RT_SIG_RESTART = 2, RT_SIG_NORESTART = 4 };
extern struct rt_sighooks rt_sighooks;

/* Software signal mask of the calling G.  Setting it moves process-
 * pending signals it no longer blocks to the G; the caller then runs
 * rt_sigcheck() to deliver them. */
uint64_t rt_sigmask_get(void);
void rt_sigmask_set(uint64_t mask);

/* Async-signal-safe, for the kernel-facing trampoline: a signal for the
 * process (routed by sysmon), or for the G running on this M (kept pending
 * on it and delivered at its next check). */
void rt_sig_arrived(int sig, const siginfo_t *si);
void rt_sig_pend_self(int sig, const siginfo_t *si);
/* Union of the sets Gs wait for in rt_sigwait (racy hint). */
uint64_t rt_sig_waitmask(void);
/* True when si is greenrun's own kick (preemption / delivery) SIGURG. */
bool rt_sig_is_kick(const siginfo_t *si);
/* True when si is a copy of a signal already pending on a G, sent by the
 * router to the OS thread that G blocks in a system call, only to end that
 * call as the signal would natively (sig.c).  The trampoline ignores it.
 * Async-signal-safe. */
#define RT_RESEND_ERRNO 0x47525253 /* "GRRS", in si_errno */
bool rt_sig_is_resend(const siginfo_t *si);
/* How many handlers rt_sigcheck has run on the calling G (wraps).  A
 * system call that failed with EINTR while this did not move was ended by
 * a stale copy (sig.c: resend), not by a signal of its own: retry it. */
uint32_t rt_sig_ran(void);

/* Send sig to g (pthread_kill, pthread_cancel with RT_SIGCANCEL): a G in
 * sigwait for it takes it; otherwise it becomes pending on g and g is
 * interrupted (woken with RT_INTR from an interruptible wait, or kicked
 * if running).  si NULL: SI_TKILL from this process.  G context. */
bool rt_sig_send(struct rt_g *g, int sig, const siginfo_t *si);

/* A process-directed signal sent from this process (kill(getpid())):
 * routed at once, in G context, as sysmon would route one that came
 * through the kernel.  si as the kernel would fill it. */
void rt_sig_process_send(int sig, const siginfo_t *si);

/* Deliver the calling G's pending, unblocked signals now (through
 * rt_sighooks.deliver).  Returns the OR of the hooks' results.  G context,
 * no runtime lock held. */
int rt_sigcheck(void);

/* True when pc lies in libgreenrun's own code (a signal arriving there
 * must not run a program handler inline).  Async-signal-safe. */
bool rt_pc_in_greenrun(uintptr_t pc);

/* True when the calling G has a signal (or cancellation) it does not
 * block pending.  Cheap. */
bool rt_sig_pending_self(void);

/* Signals pending on the calling G or on the process. */
uint64_t rt_sigpending(void);

/* Wait for a signal in set (sigwait family): 0 and *sig (and *si), EAGAIN
 * when the deadline passed (deadline as rt_park; 0 = poll), EINTR when an
 * interruptible wait was interrupted by another signal. */
int rt_sigwait(uint64_t set, int64_t deadline, int *sig, siginfo_t *si);

/* Mark the calling G's waits interruptible (returns the previous value).
 * While set, a signal sent to the G ends rt_park with RT_INTR and the
 * waits built on it with EINTR. */
bool rt_intr(bool on);

/* Keep the signals of set blocked in the kernel on every M (signalfd:
 * they must stay pending there for the fd to become readable). */
void rt_sig_kset_add(uint64_t set);
/* Call a C-library signal handler that works on the OS thread's own
 * thread descriptor (glibc's SIGSETXID handler, behind setuid() & co.)
 * with the thread pointer set to the descriptor glibc associates with
 * this OS thread, then put the running G's back.  Handler context. */
void rt_sig_on_os_thread(void (*f)(int, siginfo_t *, void *), int sig,
			 siginfo_t *si, void *uc);
/* Call f(a, b, c) with the thread pointer set to the descriptor glibc
 * associates with this OS thread (setuid() & co.: glibc signals every
 * thread it knows except "self", so self must be this OS thread's), and
 * return its result; *err gets the errno it left.  f must not park. */
long rt_call_on_os_thread(long (*f)(long, long, long), long a, long b, long c,
			  int *err);
/* The kernel mask every M runs with (rt_sig_kset). */
uint64_t rt_sig_kmask(void);
/* Make sure signal routing runs (starts sysmon if needed).  G context. */
void rt_sig_enable(void);

/* ---- scheduling ---------------------------------------------------------- */
/* Let other Gs run; the caller goes to the back of its P's queue. */
void rt_yield(void);

/* CLOCK_MONOTONIC now, ns (vDSO). */
int64_t rt_nanotime(void);

/* Park until deadline (absolute monotonic ns).  0, or EINTR when
 * interrupted (rt_intr). */
int rt_sleep_until(int64_t deadline);

/* Bracket a system call that may block the OS thread (regular-file I/O,
 * waitpid, flock, ...).  While inside, sysmon may hand this G's P to
 * another M after ~20 us so other Gs keep running; rt_exitsyscall gets a
 * P back (the same one when nobody took it: no OS-thread wake-up on the
 * fast path) or waits for one.  Errno is untouched. */
void rt_entersyscall(void);
void rt_exitsyscall(void);

/* ---- parking (a futex analogue for Gs) ---------------------------------- */
enum { RT_WOKEN = 0, RT_TIMEDOUT = 1, RT_INTR = 2 };

/* Callback run on g0 after the caller is switched out; typically releases
 * the lock that guards the wait structure the G just joined.  Returning
 * false resumes the G at once (it was not parked). */
typedef bool (*rt_unlockf)(struct rt_g *g, void *arg);

/* Arm the wake-once token before publishing the G on a wait structure. */
void rt_prepare_wait(struct rt_g *g);

/* Park the calling G.  deadline -1: no timeout.  Returns RT_WOKEN,
 * RT_TIMEDOUT (only with a deadline) or RT_INTR (only while rt_intr is on:
 * a signal was sent to the G; the caller leaves its wait structure as on
 * a timeout). */
int rt_park(rt_unlockf f, void *arg, enum rt_waitreason why, int64_t deadline);

/* Wake a G parked with rt_park, once: true when this call woke it, false
 * when something else (its timer, another waker) already did.  Callable
 * from G or g0 context with a P. */
bool rt_wake(struct rt_g *g, int res);

/* Like rt_wake, but only claims the wake-up (sets the result) without
 * readying: for callers without a P (the netpoller), which hand the
 * claimed Gs back as a list linked through g->schedlink. */
bool rt_wake_claim(struct rt_g *g, int res);

/* Address-keyed wait queue (park.c).  rt_futex_wait parks while *addr ==
 * val: 0 woken, EAGAIN value differed, ETIMEDOUT deadline passed, EINTR
 * interrupted (only while rt_intr is on).
 * rt_futex_wake wakes up to n waiters on addr, returns how many. */
int rt_futex_wait(uint32_t *addr, uint32_t val, int64_t deadline);
int rt_futex_wake(uint32_t *addr, int n);
/* The same with a FUTEX_BITSET mask: a wake takes only waiters whose mask
 * intersects `bits` (bits must not be 0: the caller checks, EINVAL). */
int rt_futex_wait_bitset(uint32_t *addr, uint32_t val, int64_t deadline,
			 uint32_t bits);
int rt_futex_wake_bitset(uint32_t *addr, int n, uint32_t bits);
/* rt_futex_wait saying what the wait is for (WAIT_MUTEX, WAIT_COND, ...):
 * thread dumps show it and the deadlock check relies on it. */
int rt_futex_wait_why(uint32_t *addr, uint32_t val, int64_t deadline,
		      enum rt_waitreason why);

/* Number of Ps (GREENRUN_PROCS); immutable after rt_init. */
static inline int rt_nprocs(void) { return rt_sched.nprocs; }

#endif
