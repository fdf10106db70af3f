/*
 * thread.c - pthread_create, pthread_exit, join, detach, names, and the
 * other calls that take a pthread_t.
 *
 * A pthread_t is the G's TCB address, exactly what glibc's pthread_self()
 * (fs:0x10) returns on that G, so glibc's own pthread_self/pthread_equal
 * stay correct and are not interposed.  Every other function taking a
 * pthread_t must be ours: glibc's would use the G's fake kernel tid.
 *
 * pthread_exit is a forced unwind like glibc's (nptl/unwind.c), with our
 * own stop function: C++ destructors run in each frame, and the C cleanup
 * buffers registered with glibc's __pthread_register_cancel (the
 * pthread_cleanup_push macro; the chain head lives in the G's own TCB at
 * the probed cleanup_jmp_buf offset) are longjmp'ed into when the unwind
 * reaches their frame; their code then calls __pthread_unwind_next, which
 * we interpose to continue.  At our root buffer (set in thread_start) the
 * thread finishes normally.  For G1 the chain ends at glibc's buffer in
 * __libc_start_call_main, which would kill the OS thread: we finish G1
 * there instead, abandoning its frames (its stack is never reused).
 */
#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "shim.h"
#include "sys.h"

extern void __pthread_register_cancel(__pthread_unwind_buf_t *buf);
extern void __call_tls_dtors(void);

/* ---- start and finish ---------------------------------------------------- */

void shim_thread_finish(struct shim_thread *st)
{
	/* a signal that reached this thread just before it ended: its
	 * handler runs first (natively the kernel delivers it at once) */
	if (rt_sig_pending_self())
		rt_sigcheck();
	__call_tls_dtors();
	shim_keys_run_destructors(st);
	shim_robust_release_all(st);
	rt_gexit(st->retval);
}

/* setjmp/longjmp on a cancel buffer use only the common jmp_buf prefix,
 * as glibc's own start_thread notes; the size warning is a false alarm. */
#pragma GCC diagnostic ignored "-Wstringop-overflow"

static void *thread_start(void *unused)
{
	struct shim_thread *st = shim_self();
	__pthread_unwind_buf_t buf;
	memset(st->keys, 0, sizeof st->keys);
	memset(st->keyblocks, 0, sizeof st->keyblocks);
	if (!__sigsetjmp((struct __jmp_buf_tag *)(void *)buf.__cancel_jmp_buf,
			 0)) {
		buf.__pad[0] = NULL;
		__pthread_register_cancel(&buf);
		st->rootbuf = &buf;
		if (st->c11) {
			int (*f)(void *) = (int (*)(void *))(void *)st->start;
			st->retval = (void *)(intptr_t)f(st->arg);
		} else {
			st->retval = st->start(st->arg);
		}
	}
	/* returned, or pthread_exit unwound to buf */
	shim_thread_finish(st);
}

/* Common body of pthread_create and thrd_create. */
int shim_create(pthread_t *th, const pthread_attr_t *attr,
		void *(*start)(void *), void *arg, bool c11)
{
	shim_check();
	struct rt_spawn_attr sa;
	int e = shim_attr_to_spawn(attr, &sa);
	if (e)
		return e;
	struct shim_thread init;
	memset(&init, 0, offsetof(struct shim_thread, keyblocks));
	init.start = start;
	init.arg = arg;
	init.c11 = c11;
	struct shim_thread *self = shim_self();
	init.schedpolicy = self->schedpolicy;
	init.schedprio = self->schedprio;
	shim_attr_sched(attr, &init.schedpolicy, &init.schedprio);
	sa.shimdata = &init;
	sa.shimlen = offsetof(struct shim_thread, keyblocks);
	sa.tp_out = (void **)th;
	return rt_spawn(thread_start, NULL, &sa, NULL);
}

EXPORT int pthread_create(pthread_t *th, const pthread_attr_t *attr,
			  void *(*start)(void *), void *arg)
{
	return shim_create(th, attr, start, arg, false);
}

/* ---- pthread_exit: forced unwind -------------------------------------- */

/* glibc mangles saved stack pointers: rol 0x11 after xor with the TCB's
 * pointer_guard (fs:0x30).  Undo it. */
static uintptr_t demangle(uintptr_t v)
{
	uintptr_t guard;
	__asm__("mov %%fs:0x30, %0" : "=r"(guard));
	v = (v >> 0x11) | (v << (64 - 0x11));
	return v ^ guard;
}

#define JB_RSP 6

static _Unwind_Reason_Code unwind_stop(int version, _Unwind_Action actions,
				       _Unwind_Exception_Class cls,
				       struct _Unwind_Exception *exc,
				       struct _Unwind_Context *ctx, void *param)
{
	struct shim_thread *st = param;
	__pthread_unwind_buf_t *buf = st->unwind_target;
	uintptr_t cfa = _Unwind_GetCFA(ctx);
	bool reached =
	    buf && cfa >= demangle((uintptr_t)buf->__cancel_jmp_buf[0]
					.__cancel_jmp_buf[JB_RSP]);
	if ((actions & _UA_END_OF_STACK) || reached) {
		struct rt_g *g = rt_getg();
		if (g->ismain && (!buf || buf->__pad[0] == NULL))
			shim_thread_finish(st); /* G1: never into glibc's root */
		if (!buf)
			shim_thread_finish(st);
		longjmp((struct __jmp_buf_tag *)(void *)buf->__cancel_jmp_buf, 1);
	}
	return _URC_NO_REASON;
}

static void unwind_cleanup(_Unwind_Reason_Code r, struct _Unwind_Exception *e)
{
	static const char msg[] =
	    "greenrun: FATAL: exception not rethrown (a catch(...) swallowed "
	    "the unwinding of pthread_exit)\n";
	(void)!write(2, msg, sizeof msg - 1);
	abort();
}

static void __attribute__((noreturn)) unwind_from(void *target)
{
	struct shim_thread *st = shim_self();
	st->unwind_target = target;
	st->exc.exception_class = 0;
	st->exc.exception_cleanup = unwind_cleanup;
	_Unwind_ForcedUnwind(&st->exc, unwind_stop, st);
	/* Only when no unwind info could be found at all. */
	shim_thread_finish(st);
}

EXPORT void pthread_exit(void *retval)
{
	shim_check();
	struct shim_thread *st = shim_self();
	st->retval = retval;
	unwind_from(rt_tcb_cleanup_buf());
}

/* Called by the pthread_cleanup_push expansion after its handler ran. */
EXPORT void __pthread_unwind_next(__pthread_unwind_buf_t *buf)
{
	unwind_from(buf->__pad[0]);
}

/* ---- gettid --------------------------------------------------------------
 * A thread id must stay the same for the thread's life (programs log it
 * and compare it), but a G runs on whatever OS thread is free.  gettid()
 * therefore gives a per-G id: the main thread's is the process id (as
 * natively: programs test gettid() == getpid()), the others' are numbers
 * above the kernel's pid_max, so they never name a real task.
 * syscall(SYS_tgkill/SYS_tkill) with such an id signals that thread
 * (futex.c); /proc/self/task/<id> does not exist for them. */
static pid_t tid_base;

pid_t shim_tid_base(void);
static pid_t base(void) { return shim_tid_base(); }

/* Read once at start-up (gettid must be async-signal-safe). */
pid_t shim_tid_base(void)
{
	pid_t b = __atomic_load_n(&tid_base, __ATOMIC_RELAXED);
	if (b)
		return b;
	long max = 4194304; /* the 64-bit default */
	FILE *f = fopen("/proc/sys/kernel/pid_max", "re");
	if (f) {
		if (fscanf(f, "%ld", &max) != 1)
			max = 4194304;
		fclose(f);
	}
	__atomic_store_n(&tid_base, (pid_t)max, __ATOMIC_RELAXED);
	return (pid_t)max;
}

static pid_t g_tid(struct rt_g *g)
{
	if (g->ismain)
		return shim_pid;
	return base() + (pid_t)(g->goid % (uint64_t)(0x7fffffff - base()));
}

EXPORT pid_t gettid(void)
{
	shim_check();
	if (shim_no_g())
		return (pid_t)rt_syscall0(SYS_gettid);
	return g_tid(rt_getg());
}

struct rt_g *shim_g_from_tid(pid_t tid)
{
	if (tid == shim_pid)
		return rt_g_main();
	if (tid <= base())
		return NULL;
	return rt_g_find_goid((uint64_t)(tid - base()),
			      (uint64_t)(0x7fffffff - base()));
}

/* ---- join / detach ----------------------------------------------------- */

static int join(pthread_t t, void **ret, int64_t deadline)
{
	shim_check();
	struct rt_g *g = shim_g(t);
	if (!g)
		return ESRCH;
	for (;;) { /* a cancellation point; signals never end a join */
		if (deadline != 0)
			shim_testcancel();
		int e = SHIM_INTR(rt_join(g, deadline, ret));
		if (e != EINTR)
			return e;
		shim_intr_restart(true);
	}
}

EXPORT int pthread_join(pthread_t t, void **ret) { return join(t, ret, -1); }

EXPORT int pthread_tryjoin_np(pthread_t t, void **ret)
{
	return join(t, ret, 0);
}

EXPORT int pthread_clockjoin_np(pthread_t t, void **ret, clockid_t clk,
				const struct timespec *abs)
{
	if (!abs)
		return join(t, ret, -1);
	if (!shim_ts_valid(abs))
		return EINVAL;
	int64_t dl = shim_abs_to_mono(clk, abs);
	if (dl < 0 || (clk != CLOCK_REALTIME && clk != CLOCK_MONOTONIC))
		return EINVAL;
	if (dl == 0) /* already past: a try that reports ETIMEDOUT */
		dl = 1;
	return join(t, ret, dl);
}

EXPORT int pthread_timedjoin_np(pthread_t t, void **ret,
				const struct timespec *abs)
{
	return pthread_clockjoin_np(t, ret, CLOCK_REALTIME, abs);
}

EXPORT int pthread_detach(pthread_t t)
{
	shim_check();
	struct rt_g *g = shim_g(t);
	if (!g)
		return ESRCH;
	return rt_detach(g);
}

/* ---- names, attributes, scheduling parameters -------------------------- */

EXPORT int pthread_setname_np(pthread_t t, const char *name)
{
	shim_check();
	struct rt_g *g = shim_g(t);
	if (!g)
		return ESRCH;
	size_t n = strlen(name);
	if (n > 15)
		return ERANGE;
	memcpy(g->name, name, n + 1);
	return 0;
}

EXPORT int pthread_getname_np(pthread_t t, char *buf, size_t len)
{
	shim_check();
	struct rt_g *g = shim_g(t);
	if (!g)
		return ESRCH;
	size_t n = strnlen(g->name, sizeof g->name);
	if (len < 16) /* glibc: at least TASK_COMM_LEN, whatever the name */
		return ERANGE;
	memcpy(buf, g->name, n);
	buf[n] = 0;
	return 0;
}

EXPORT int pthread_getattr_np(pthread_t t, pthread_attr_t *attr)
{
	shim_check();
	struct rt_g *g = shim_g(t);
	if (!g)
		return ESRCH;
	pthread_attr_init(attr);
	void *addr;
	size_t size, guard = 0;
	if (g->ismain) {
		pthread_attr_t ra;
		int e = real.pthread_getattr_np(t, &ra);
		if (e)
			return e;
		real.pthread_attr_getstack(&ra, &addr, &size);
		real.pthread_attr_getguardsize(&ra, &guard);
		real.pthread_attr_destroy(&ra);
	} else {
		uintptr_t lo;
		rt_g_stack(g, &lo, &size, &guard);
		addr = (void *)lo;
	}
	pthread_attr_setstack(attr, addr, size);
	pthread_attr_setguardsize(attr, guard);
	if (g->detached)
		pthread_attr_setdetachstate(attr, PTHREAD_CREATE_DETACHED);
	struct shim_thread *st = shim_of(g);
	struct sched_param sp = {.sched_priority = st->schedprio};
	pthread_attr_setschedpolicy(attr, st->schedpolicy);
	pthread_attr_setschedparam(attr, &sp);
	return 0;
}

static int check_sched(int policy, int prio)
{
	if (policy != SCHED_OTHER && policy != SCHED_FIFO &&
	    policy != SCHED_RR && policy != SCHED_BATCH && policy != SCHED_IDLE)
		return EINVAL;
	if (prio < sched_get_priority_min(policy) ||
	    prio > sched_get_priority_max(policy))
		return EINVAL;
	return 0;
}

/* Green threads have no kernel scheduling class: the values are kept and
 * reported back, and are otherwise without effect (README). */
EXPORT int pthread_setschedparam(pthread_t t, int policy,
				 const struct sched_param *p)
{
	shim_check();
	struct rt_g *g = shim_g(t);
	if (!g)
		return ESRCH;
	int e = check_sched(policy, p->sched_priority);
	if (e)
		return e;
	shim_of(g)->schedpolicy = policy;
	shim_of(g)->schedprio = p->sched_priority;
	return 0;
}

EXPORT int pthread_getschedparam(pthread_t t, int *policy,
				 struct sched_param *p)
{
	shim_check();
	struct rt_g *g = shim_g(t);
	if (!g)
		return ESRCH;
	*policy = shim_of(g)->schedpolicy;
	memset(p, 0, sizeof *p);
	p->sched_priority = shim_of(g)->schedprio;
	return 0;
}

EXPORT int pthread_setschedprio(pthread_t t, int prio)
{
	shim_check();
	struct rt_g *g = shim_g(t);
	if (!g)
		return ESRCH;
	int e = check_sched(shim_of(g)->schedpolicy, prio);
	if (e)
		return e;
	shim_of(g)->schedprio = prio;
	return 0;
}

int shim_foreign_id(void)
{
	static __thread int id;
	if (!id)
		id = 0x40000000 | ((int)rt_syscall0(SYS_gettid) & 0x3fffffff);
	return id;
}

EXPORT int pthread_getcpuclockid(pthread_t t, clockid_t *clk)
{
	shim_check();
	struct rt_g *g = shim_g(t);
	if (!g)
		return ESRCH;
	/* CPU time is per OS thread; a G has none of its own.  The calling
	 * thread gets its current M's clock, others the process clock. */
	*clk = g == rt_getg() ? CLOCK_THREAD_CPUTIME_ID
			      : CLOCK_PROCESS_CPUTIME_ID;
	return 0;
}
