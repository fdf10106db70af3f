/*
 * proc.c - the G/M/P scheduler.
 *
 * The model is Go's (src/runtime/proc.go), rewritten for C and for
 * preloading into a program that already has a main thread:
 *
 *  - A G runs only on an M that holds a P.  Each P has a local run queue
 *    (runq.c: a 256-slot ring plus a runnext slot) and a timer heap
 *    (timer.c).  A global run queue (sched.runq) takes overflow and Gs
 *    readied without a P.
 *
 *  - Every switch goes through the M's g0: a G that blocks calls rt_mcall,
 *    which saves its context and resumes g0 inside execute(); g0 then runs
 *    the requested action (park: mark waiting and run the unlock callback;
 *    yield: requeue; exit: free) and picks the next G with findrunnable().
 *    Because the action runs after the G's registers are saved, a waker can
 *    never resume a G that is still on its old stack (Go's mcall/park_m).
 *
 *  - findrunnable order: every 61st schedtick the global queue first
 *    (fairness), then expired timers, the local queue, the global queue,
 *    stealing half of a random victim's queue (spinning Ms, at most half
 *    the busy Ps), then the P is dropped and the M either becomes the one
 *    netpoller blocked in epoll_wait until the earliest timer, or parks on
 *    its futex note in the idle list.
 *
 *  - wakep: when work is added and a P is idle and no M is spinning, one
 *    idle M is woken (or created) to spin.  A spinning M that finds work
 *    stops spinning and, if it was the last spinner, wakes another: work
 *    spreads one M at a time without a thundering herd.
 *
 *  - Lost wake-up avoidance (Go's "delicate dance"): an M that gives up
 *    spinning first decrements nmspinning, then re-checks every runq; a
 *    producer first publishes the G, then checks nmspinning.  One of the
 *    two sees the other.
 *
 *  - The main thread is adopted as G1 at load: it keeps its own stack and
 *    TCB and may migrate to other Ms like any G.  Its OS thread becomes M0,
 *    whose g0 gets a fresh stack slot and TLS block of its own, so that the
 *    scheduler running on M0 never touches G1's errno or malloc state.
 *
 * Rejected: direct G-to-G switches (saves one switch, but an exiting G
 * would need another stack to free its own; revisit with a benchmark);
 * a single global queue (contention at 64+ Ps; locality lost).
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "atomic.h"
#include "diag.h"
#include "internal.h"
#include "sys.h"

struct rt_sched rt_sched;
struct rt_os rt_os = {.sigaction = sigaction}; /* the shim replaces it */

static struct rt_m m0;
struct rt_m *rt_m0(void) { return &m0; }
static struct rt_g g1;
bool rt_started_flag; /* rt_init done; written once, before any G */

/* Gs on program-provided stacks (pthread_attr_setstack); rare. */
static rt_mutex userlock;
static struct rt_g **usergs;
static size_t nusergs, capusergs;

struct rt_m *rt_getm(void) { return rt_getg()->m; }
int64_t rt_nlive(void) { return rt_load(&rt_sched.nlive); }

int64_t rt_nanotime(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

uint32_t rt_fastrand(void)
{
	struct rt_m *m = rt_getm();
	/* xorshift32; owner M only */
	uint32_t x = m->fastrand;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	m->fastrand = x;
	return x;
}

/* ---- P ownership ------------------------------------------------------- */

static void acquirep(struct rt_m *m, struct rt_p *p)
{
	if (m->p || p->m)
		rt_throw("acquirep: M or P already bound");
	m->p = p;
	p->m = m;
	rt_store(&p->status, (uint32_t)P_RUNNING);
}

/* sched.lock held.  Releases m's P onto the idle list. */
static void pidleput(struct rt_m *m)
{
	struct rt_p *p = m->p;
	if (!rt_runqempty(p))
		rt_throw("pidleput: P has a non-empty run queue");
	m->p = NULL;
	p->m = NULL;
	rt_store(&p->status, (uint32_t)P_IDLE);
	p->link = rt_sched.pidle;
	rt_sched.pidle = p;
	rt_xadd(&rt_sched.npidle, 1);
}

/* sched.lock held. */
static struct rt_p *pidleget(void)
{
	struct rt_p *p = rt_sched.pidle;
	if (p) {
		rt_sched.pidle = p->link;
		p->link = NULL;
		rt_xadd(&rt_sched.npidle, -1);
	}
	return p;
}

/* ---- M creation, parking, waking -------------------------------------- */

static void g0main(void *arg) __attribute__((noreturn));
static uint64_t current_kernel_mask(void);

static void notesleep(uint32_t *note)
{
	while (rt_load(note) == 0)
		rt_futex_wait_os(note, 0, -1);
}

static void notewakeup(uint32_t *note)
{
	rt_store(note, 1u);
	rt_futex_wake_os(note, 1);
}

static void *mstart(void *arg)
{
	struct rt_m *m = arg;
	void *tp;
	__asm__("mov %%fs:0, %0" : "=r"(tp));
	m->tid = (pid_t)rt_syscall0(SYS_gettid);
	m->native_tp = tp;
	m->g0->tp = tp;
	m->g0->ctx.fsbase = (uint64_t)tp;
	rt_curg_tls = m->g0;
	m->sigmask = current_kernel_mask();
	rt_apply_kmask(m); /* its creator may have been sysmon (all blocked) */
	static int checked;
	if (!rt_xchg(&checked, 1)) {
		const char *e = rt_tls_check_native();
		if (e)
			rt_throw(e);
	}
	rt_signal_minit(m);
	rt_preempt_minit(m);
	g0main(m);
}

static struct rt_m *allocm(void)
{
	struct rt_m *m = calloc(1, sizeof *m);
	struct rt_g *g0 = calloc(1, sizeof *g0);
	if (!m || !g0)
		rt_throw("out of memory allocating an M");
	g0->isg0 = true;
	g0->m = m;
	g0->status = G_RUNNING;
	m->g0 = g0;
	return m;
}

static void newm(struct rt_p *p, bool spinning)
{
	struct rt_m *m = allocm();
	m->nextp = p;
	m->spinning = spinning;
	rt_lock(&rt_sched.lock);
	if (rt_sched.mcount >= rt_sched.maxmcount) {
		rt_unlock(&rt_sched.lock);
		rt_printf("greenrun: program exceeds %d OS threads "
			  "(GREENRUN_MAXTHREADS): too many threads blocked in "
			  "system calls at once\n", (int)rt_sched.maxmcount);
		rt_throw("thread limit exceeded");
	}
	m->id = rt_sched.mcount++;
	m->fastrand = 0x9e3779b9u * (uint32_t)(m->id + 1);
	m->alllink = rt_sched.allm;
	rt_store(&rt_sched.allm, m);
	rt_unlock(&rt_sched.lock);
	/* glibc carves the static TLS (the program's __thread data) out of
	 * the thread's stack: add it, or a program with large TLS gets
	 * EINVAL here. */
	int e = rt_os.thread_create(mstart, m, 256 * 1024 + rt_tls.static_size);
	if (e)
		rt_throw("cannot create an OS thread for an M");
}

/* Park the M until startm hands it a P. */
static void stopm(struct rt_m *m)
{
	if (m->p)
		rt_throw("stopm holding a P");
	rt_store(&m->park, 0u);
	rt_lock(&rt_sched.lock);
	m->schedlink = rt_sched.midle;
	rt_sched.midle = m;
	rt_sched.nmidle++;
	rt_unlock(&rt_sched.lock);
	notesleep(&m->park);
	struct rt_p *p = m->nextp;
	m->nextp = NULL;
	acquirep(m, p);
}

/* Run some M on p (or any idle P when p == NULL).  With spinning, the
 * caller has already counted the new spinner in nmspinning. */
static void startm(struct rt_p *p, bool spinning)
{
	rt_lock(&rt_sched.lock);
	if (!p) {
		p = pidleget();
		if (!p) {
			rt_unlock(&rt_sched.lock);
			if (spinning)
				rt_xadd(&rt_sched.nmspinning, -1);
			return;
		}
	}
	struct rt_m *m = rt_sched.midle;
	if (m) {
		rt_sched.midle = m->schedlink;
		rt_sched.nmidle--;
	}
	rt_unlock(&rt_sched.lock);
	if (!m) {
		newm(p, spinning);
		return;
	}
	m->spinning = spinning;
	m->nextp = p;
	notewakeup(&m->park);
}

/* sysmon took p from an M stuck in a system call: give it to an M if
 * there is work for it, else make it idle (Go's handoffp). */
void rt_handoffp(struct rt_p *p)
{
	p->m = NULL;
	if (!rt_runqempty(p) || rt_load_relaxed(&rt_sched.runqsize) > 0 ||
	    rt_load(&p->timer0when) != 0) {
		startm(p, false);
		return;
	}
	if (rt_load(&rt_sched.nmspinning) + rt_load(&rt_sched.npidle) == 0 &&
	    rt_cas(&rt_sched.nmspinning, 0, 1)) {
		startm(p, true);
		return;
	}
	rt_lock(&rt_sched.lock);
	rt_store(&p->status, (uint32_t)P_IDLE);
	p->link = rt_sched.pidle;
	rt_sched.pidle = p;
	rt_xadd(&rt_sched.npidle, 1);
	rt_unlock(&rt_sched.lock);
}

/* Work was added: make sure an M is looking for it (Go's wakep). */
void rt_wakep(void)
{
	if (rt_load(&rt_sched.npidle) == 0)
		return;
	if (rt_load(&rt_sched.nmspinning) != 0 ||
	    !rt_cas(&rt_sched.nmspinning, 0, 1))
		return;
	startm(NULL, true);
}

static void resetspinning(struct rt_m *m)
{
	m->spinning = false;
	if (rt_xadd(&rt_sched.nmspinning, -1) < 0)
		rt_throw("negative nmspinning");
	rt_wakep();
}

/* ---- ready / inject ---------------------------------------------------- */

static void ready(struct rt_g *g);
void rt_ready(struct rt_g *g) { ready(g); }

static void ready(struct rt_g *g)
{
	struct rt_g *cur = rt_getg();
	struct rt_m *m = cur ? cur->m : NULL;
	/* no P here: a signal handler on an idle M's g0 (sem_post), or an OS
	 * thread of glibc's own (a timer_create(SIGEV_THREAD) callback
	 * signalling a condvar), which has no G at all */
	if (!m || !m->p) {
		g->schedlink = NULL;
		rt_injectglist(g, 1);
		return;
	}
	rt_store_rel(&g->status, (uint32_t)G_RUNNABLE);
	rt_runqput(m->p, g, true);
	rt_wakep();
}

/* Put a list of runnable Gs (linked by schedlink) on the global queue and
 * start Ms for idle Ps. */
void rt_injectglist(struct rt_g *list, int n)
{
	if (!list)
		return;
	struct rt_g *tail = list;
	for (struct rt_g *g = list; g; g = g->schedlink) {
		rt_store_rel(&g->status, (uint32_t)G_RUNNABLE);
		tail = g;
	}
	rt_lock(&rt_sched.lock);
	rt_globrunqputbatch(list, tail, n);
	rt_unlock(&rt_sched.lock);
	for (int i = 0; i < n && rt_load(&rt_sched.npidle) > 0; i++)
		startm(NULL, false);
}

/* ---- findrunnable ------------------------------------------------------ */

/* Run expired timers on every P; returns the earliest pending deadline.
 * Reads the clock only when some P has a timer (keeps yield cheap). */
static int64_t checktimers_all(void)
{
	int64_t next = 0, now = 0;
	for (int i = 0; i < rt_sched.nprocs; i++) {
		struct rt_p *p = &rt_sched.allp[i];
		int64_t w = rt_load(&p->timer0when);
		if (w && !now)
			now = rt_nanotime();
		if (w && w <= now)
			w = rt_timers_run(p, now);
		if (w && (!next || w < next))
			next = w;
	}
	return next;
}

/* Earliest timer deadline over all Ps (0: none); reads only, no P needed. */
static int64_t earliest_timer(void)
{
	int64_t next = 0;
	for (int i = 0; i < rt_sched.nprocs; i++) {
		int64_t w = rt_load(&rt_sched.allp[i].timer0when);
		if (w && (!next || w < next))
			next = w;
	}
	return next;
}

static struct rt_g *stealwork(struct rt_m *m)
{
	int n = rt_sched.nprocs;
	for (int round = 0; round < 4; round++) {
		uint32_t start = rt_fastrand();
		for (int i = 0; i < n; i++) {
			struct rt_p *v = &rt_sched.allp[(start + i) % n];
			if (v == m->p)
				continue;
			struct rt_g *g = rt_runqsteal(m->p, v, round == 3);
			if (g)
				return g;
		}
	}
	return NULL;
}

/* Of n Gs the netpoller readied (linked by schedlink), run the first
 * here and queue the rest globally.  NULL for an empty list. */
static struct rt_g *take_netpolled(struct rt_g *list, int n)
{
	if (!list)
		return NULL;
	struct rt_g *rest = list->schedlink;
	list->schedlink = NULL;
	rt_injectglist(rest, n - 1);
	rt_store_rel(&list->status, (uint32_t)G_RUNNABLE);
	return list;
}

static struct rt_g *findrunnable(struct rt_m *m)
{
	struct rt_g *g;
top:;
	struct rt_p *p = m->p;
	checktimers_all();

	/* Fairness for Gs waiting on fds while this P always has local
	 * work: a non-blocking poll every 61st tick (Go's sysmon does it
	 * every 10 ms).  Readied Gs go to the global queue. */
	if (p->schedtick % 61 == 0 && rt_netpoll_waiters() > 0 &&
	    !rt_load(&rt_sched.polling)) {
		int n = 0;
		struct rt_g *list = rt_netpoll(0, &n);
		rt_injectglist(list, n);
	}
	if (p->schedtick % 61 == 0 && rt_load_relaxed(&rt_sched.runqsize) > 0) {
		/* the oldest preempted G first: woken ones overtake them */
		rt_lock(&rt_sched.lock);
		g = rt_globrunqget_preempted();
		if (!g)
			g = rt_globrunqget(p, 1);
		rt_unlock(&rt_sched.lock);
		/* A G just woken (runnext: a timer or a wake-up readied it)
		 * runs first and the global one takes its place: it would
		 * otherwise wait out a whole slice behind a CPU-bound G. */
		struct rt_g *n = rt_load(&p->runnext);
		if (g && n && rt_cas(&p->runnext, n, g))
			g = n;
		if (g)
			goto found;
	}
	if ((g = rt_runqget(p)))
		goto found;
	if (rt_load_relaxed(&rt_sched.runqsize) > 0) {
		rt_lock(&rt_sched.lock);
		g = rt_globrunqget(p, 0);
		rt_unlock(&rt_sched.lock);
		if (g)
			goto found;
	}
	/* Network readiness, without blocking, when Gs wait on fds and no
	 * M is already blocked in the netpoller (it would report them). */
	if (rt_netpoll_waiters() > 0 && !rt_load(&rt_sched.polling)) {
		int n = 0;
		struct rt_g *list = rt_netpoll(0, &n);
		if ((g = take_netpolled(list, n)))
			goto found;
	}
	/* Spin and steal, bounded to half the busy Ps (Go). */
	int busy = rt_sched.nprocs - rt_load(&rt_sched.npidle);
	if (m->spinning || 2 * rt_load(&rt_sched.nmspinning) < busy) {
		if (!m->spinning) {
			m->spinning = true;
			rt_xadd(&rt_sched.nmspinning, 1);
		}
		if ((g = stealwork(m)))
			goto found;
	}

	/* Nothing to do: give up the P. */
	rt_lock(&rt_sched.lock);
	if (rt_sched.runqsize > 0) {
		g = rt_globrunqget(p, 0);
		rt_unlock(&rt_sched.lock);
		goto found;
	}
	pidleput(m);
	rt_unlock(&rt_sched.lock);

	bool wasspinning = m->spinning;
	if (m->spinning) {
		m->spinning = false;
		if (rt_xadd(&rt_sched.nmspinning, -1) < 0)
			rt_throw("findrunnable: negative nmspinning");
		/* Re-check all queues after dropping spinning (see header). */
		for (int i = 0; i < rt_sched.nprocs; i++) {
			if (rt_runqempty(&rt_sched.allp[i]))
				continue;
			rt_lock(&rt_sched.lock);
			struct rt_p *np = pidleget();
			rt_unlock(&rt_sched.lock);
			if (np) {
				acquirep(m, np);
				m->spinning = true;
				rt_xadd(&rt_sched.nmspinning, 1);
				goto top;
			}
			break;
		}
	}

	/* Become the netpoller, sleeping until the earliest timer. */
	if (rt_cas(&rt_sched.polling, 0, 1)) {
		int64_t now = rt_nanotime();
		int64_t next = earliest_timer();
		rt_store(&rt_sched.polluntil, next ? next : INT64_MAX);
		int64_t delay = -1;
		if (next)
			delay = next > now ? next - now : 0;
		/* Work that arrived while we were dropping the P. */
		if (rt_load_relaxed(&rt_sched.runqsize) > 0)
			delay = 0;
		int n = 0;
		struct rt_g *list = rt_netpoll(delay, &n);
		rt_store(&rt_sched.polluntil, (int64_t)0);
		rt_store(&rt_sched.polling, 0);
		rt_lock(&rt_sched.lock);
		struct rt_p *np = pidleget();
		rt_unlock(&rt_sched.lock);
		if (!np) {
			rt_injectglist(list, n);
		} else {
			acquirep(m, np);
			if ((g = take_netpolled(list, n)))
				goto found;
			if (wasspinning) {
				m->spinning = true;
				rt_xadd(&rt_sched.nmspinning, 1);
			}
			goto top;
		}
	}
	stopm(m);
	goto top;

found:
	if (m->spinning)
		resetspinning(m);
	return g;
}

/* ---- the g0 loop and the mcall protocol ------------------------------- */

static void stack_check(struct rt_g *g)
{
	if (g->isg0 || g->ismain)
		return;
	if (g->ctx.rsp < g->stk.lo) {
		rt_printf("greenrun: stack overflow in thread %lu \"%s\" "
			  "(stack size %lu bytes)\n",
			  (unsigned long)g->goid, g->name,
			  (unsigned long)g->stk.reqsize);
		rt_throw("stack overflow detected at a context switch");
	}
	if (!g->minsp || g->ctx.rsp < g->minsp)
		g->minsp = g->ctx.rsp;
}

/* Every M runs with the same kernel mask, rt_sig_kset (per-G masks are
 * kept in software, sig.c); the preemption signal is never blocked. */
void rt_apply_kmask(struct rt_m *m)
{
	uint64_t mask = rt_load(&rt_sig_kset) & ~(1ull << (SIGURG - 1));
	if (m->sigmask != mask) {
		rt_syscall4(SYS_rt_sigprocmask, SIG_SETMASK, &mask, NULL, 8);
		m->sigmask = mask;
	}
}

static uint64_t current_kernel_mask(void)
{
	uint64_t m = 0;
	rt_syscall4(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &m, 8);
	return m;
}

/* Run the action the G that just switched out asked for (m->pendg).
 * Called on g0, or on the G that a direct switch resumed. */
static void run_pending(struct rt_m *m)
{
	struct rt_g *g = m->pendg;
	if (!g)
		return;
	m->pendg = NULL;
	stack_check(g);
	m->mcallfn(g, m->mcallarg);
}

/* Make g the running G of m (g0 or a G switching directly to g). */
static void prepare_run(struct rt_m *m, struct rt_g *g)
{
	rt_apply_kmask(m);
	rt_store_relaxed(&g->preempt, false);
	rt_store_rel(&g->status, (uint32_t)G_RUNNING);
	g->m = m;
	m->curg = g;
	m->p->schedtick++;
	m->nswitch++; /* statistics */
	RT_TRACE(m, TR_START, g, 0);
}

static void execute(struct rt_m *m, struct rt_g *g)
{
	prepare_run(m, g);
	rt_ctx_switch(&m->g0->ctx, &g->ctx);
	run_pending(m);
}

static void g0main(void *arg)
{
	struct rt_m *m = arg;
	if (m == &m0)
		rt_tls_gstart(m->g0->tp);
	if (m->pendg) /* M0: G1 parked for the first time */
		run_pending(m);
	else if (m->nextp) {
		struct rt_p *p = m->nextp;
		m->nextp = NULL;
		acquirep(m, p);
	} else {
		stopm(m);
	}
	for (;;)
		execute(m, findrunnable(m));
}

/* Switch the running G out and run fn(g, arg) once its context is saved.
 * Fast path: when this P has a local G to run and this is not one of the
 * ticks reserved for findrunnable (timers, global queue, netpoll: every
 * 8th), switch straight to it and let it run fn first (one switch instead
 * of two).  Otherwise go through g0.  goexit always goes through g0 (the
 * dead G's stack may be freed there). */
static void goexit_m(struct rt_g *g, void *arg);
static void gopreempt_m(struct rt_g *g, void *arg);

static void mcall(void (*fn)(struct rt_g *, void *), void *arg)
{
	struct rt_g *g = rt_getg();
	struct rt_m *m = g->m;
	m->mcallfn = fn;
	m->mcallarg = arg;
	m->pendg = g;
	struct rt_g *next = NULL;
	if (fn != goexit_m && fn != gopreempt_m && m->p &&
	    (m->p->schedtick & 7) != 0)
		next = rt_runqget(m->p);
	if (next) {
		prepare_run(m, next);
		rt_ctx_switch(&g->ctx, &next->ctx);
	} else {
		m->curg = NULL;
		rt_ctx_switch(&g->ctx, &m->g0->ctx);
	}
	/* resumed, maybe on another M, maybe by a direct switch */
	run_pending(rt_getg()->m);
}

/* ---- park / wake ------------------------------------------------------- */

struct parkargs {
	rt_unlockf f;
	void *arg;
	int64_t deadline;
};

static void park_timeout(struct rt_timer *t) { rt_wake(t->arg, RT_TIMEDOUT); }

static void park_m(struct rt_g *g, void *a)
{
	struct parkargs pa = *(struct parkargs *)a; /* G may resume below */
	rt_store(&g->status, (uint32_t)G_WAITING);
	if (pa.deadline >= 0) {
		g->timer.when = pa.deadline;
		g->timer.f = park_timeout;
		g->timer.arg = g;
		rt_timer_add(g->m->p, &g->timer);
	}
	if (pa.f && !pa.f(g, pa.arg))
		rt_wake(g, RT_WOKEN);
	/* A signal sent while it was on its way here (sig.c: the sender
	 * sets pending, then reads status; we the reverse). */
	else if (rt_load(&g->intr) && rt_sig_deliverable(g))
		rt_wake(g, RT_INTR);
}

void rt_prepare_wait(struct rt_g *g) { rt_store(&g->wakeup, 0u); }

int rt_park(rt_unlockf f, void *arg, enum rt_waitreason why, int64_t deadline)
{
	struct rt_g *g = rt_getg();
	struct parkargs pa = {f, arg, deadline};
	g->waitreason = (uint8_t)why;
	g->waitsince = rt_coarsetime(); /* for dumps */
	RT_TRACE(g->m, TR_BLOCK, g, (uint64_t)why);
	mcall(park_m, &pa);
	g->waitreason = WAIT_NONE;
	if (deadline >= 0)
		rt_timer_del(&g->timer);
	return g->wakeres;
}

bool rt_wake_claim(struct rt_g *g, int res)
{
	if (!rt_cas(&g->wakeup, 0u, 1u))
		return false;
	g->wakeres = res;
	/* no G on sysmon (its netpoll): no M to trace on */
	RT_TRACE(rt_getg() ? rt_getm() : NULL, TR_UNBLOCK, g, 0);
	return true;
}

bool rt_wake(struct rt_g *g, int res)
{
	if (!rt_cas(&g->wakeup, 0u, 1u))
		return false;
	g->wakeres = res;
	RT_TRACE(rt_getm(), TR_UNBLOCK, g, 0);
	ready(g);
	return true;
}

int rt_sleep_until(int64_t deadline)
{
	if (deadline <= rt_nanotime())
		return 0;
	if (rt_cannot_park()) { /* block the OS thread */
		int64_t d = deadline - rt_nanotime();
		if (d > 0) {
			struct timespec ts = {d / 1000000000, d % 1000000000};
			rt_syscall2(SYS_nanosleep, &ts, NULL);
		}
		return 0;
	}
	struct rt_g *g = rt_getg();
	rt_prepare_wait(g);
	return rt_park(NULL, NULL, WAIT_SLEEP, deadline) == RT_INTR ? EINTR
								   : 0;
}

static void gosched_m(struct rt_g *g, void *arg)
{
	rt_store_rel(&g->status, (uint32_t)G_RUNNABLE);
	rt_runqput(g->m->p, g, false);
}

void rt_yield(void)
{
	if (rt_cannot_park())
		return;
	RT_TRACE(rt_getm(), TR_YIELD, rt_getg(), 0);
	mcall(gosched_m, NULL);
}

/* A preempted G goes to the global queue, through g0 (so findrunnable
 * runs: timers, fairness), as Go's gopreempt_m; behind the woken Gs
 * queued there (runq.c). */
static void gopreempt_m(struct rt_g *g, void *arg)
{
	rt_store_rel(&g->status, (uint32_t)G_RUNNABLE);
	rt_lock(&rt_sched.lock);
	rt_globrunqput_preempted(g);
	rt_unlock(&rt_sched.lock);
}

void rt_gopreempt(void)
{
	RT_TRACE(rt_getm(), TR_PREEMPT, rt_getg(), 0);
	mcall(gopreempt_m, NULL);
}

/* ---- system calls: handoff (Go's entersyscall/exitsyscall) ---------- */

void rt_entersyscall(void)
{
	if (rt_cannot_park()) /* g0, or a handler on the signal stack */
		return;
	struct rt_m *m = rt_getm();
	struct rt_p *p = m->p;
	m->oldp = p;
	RT_TRACE(m, TR_SYSCALL, m->curg, 0);
	rt_store_relaxed(&p->syscalltick, p->syscalltick + 1);
	/* Unbind p from m (Go's entersyscall: pp.m = 0).  Whoever turns
	 * P_SYSCALL into something else next owns p: sysmon's handoff, or
	 * an M leaving a system call, which need not be this one: once p
	 * was handed off, its new M may be in a system call in turn when
	 * we return; our CAS then takes p over and that M's fails.  With
	 * p->m left set, that takeover kept the other M's name on p, and
	 * sysmon asked the wrong M to preempt (a thread looping on a
	 * mutex on one P was never preempted again: tests/prog/
	 * handoff_takeover.c). */
	rt_store(&p->m, (struct rt_m *)NULL);
	rt_store_rel(&p->status, (uint32_t)P_SYSCALL); /* sysmon may take it */
}

/* On g0: no P could be had; queue the G and park this M. */
static void exitsyscall0(struct rt_g *g, void *arg)
{
	struct rt_m *m = g->m;
	rt_store_rel(&g->status, (uint32_t)G_RUNNABLE);
	rt_lock(&rt_sched.lock);
	struct rt_p *p = pidleget();
	if (!p)
		rt_globrunqput(g);
	rt_unlock(&rt_sched.lock);
	if (p) { /* one freed meanwhile: run g on it now */
		acquirep(m, p);
		rt_runqput(p, g, true);
		return;
	}
	stopm(m);
}

void rt_exitsyscall(void)
{
	if (rt_cannot_park())
		return;
	struct rt_m *m = rt_getm();
	struct rt_p *p = m->oldp;
	m->oldp = NULL;
	RT_TRACE(m, TR_SYSRET, m->curg, 0);
	if (rt_cas(&p->status, (uint32_t)P_SYSCALL, (uint32_t)P_RUNNING)) {
		/* fast path: p was in a system call (ours, or that of the M
		 * sysmon had handed it to): it is ours now */
		if (rt_load(&p->m))
			rt_throw("exitsyscall: a P in a system call has an M");
		m->p = p;
		rt_store(&p->m, m);
		return;
	}
	m->p = NULL; /* sysmon handed it to someone else */
	rt_lock(&rt_sched.lock);
	struct rt_p *np = pidleget();
	rt_unlock(&rt_sched.lock);
	if (np) {
		acquirep(m, np);
		return;
	}
	mcall(exitsyscall0, NULL);
}

/* ---- spawn / exit / join ------------------------------------------------ */

static void gmain(void *arg)
{
	struct rt_g *g = arg;
	run_pending(g->m); /* we may have been switched to directly */
	rt_tls_gstart(g->tp);
	rt_gexit(g->fn(g->arg));
}

/* rt_sched.allg: G1 stays first (appended at rt_init before any other);
 * later Gs go right after it. */
static void allg_add(struct rt_g *g)
{
	rt_lock(&rt_sched.allglock);
	struct rt_g *h = rt_sched.allg;
	if (!h) {
		g->allprev = g->allnext = NULL;
		rt_sched.allg = g;
	} else {
		g->allprev = h;
		g->allnext = h->allnext;
		if (h->allnext)
			h->allnext->allprev = g;
		h->allnext = g;
	}
	rt_unlock(&rt_sched.allglock);
}

static void allg_del(struct rt_g *g)
{
	rt_lock(&rt_sched.allglock);
	if (g->allprev)
		g->allprev->allnext = g->allnext;
	else if (rt_sched.allg == g)
		rt_sched.allg = g->allnext;
	if (g->allnext)
		g->allnext->allprev = g->allprev;
	g->allnext = g->allprev = NULL;
	rt_unlock(&rt_sched.allglock);
}

struct rt_g *rt_g_main(void)
{
	return rt_load(&g1.status) == G_DEAD ? NULL : &g1;
}

struct rt_g *rt_g_find_goid(uint64_t v, uint64_t mod)
{
	struct rt_g *r = NULL;
	rt_lock(&rt_sched.allglock);
	for (struct rt_g *g = rt_sched.allg; g; g = g->allnext)
		if (g->goid % mod == v) {
			r = g;
			break;
		}
	rt_unlock(&rt_sched.allglock);
	return r;
}

bool rt_sysmon_running(void)
{
	if (!rt_load(&rt_sched.sysmon_started) &&
	    rt_cas(&rt_sched.sysmon_started, 0u, 1u))
		rt_sysmon_start();
	return true;
}

int rt_spawn(void *(*fn)(void *), void *arg, const struct rt_spawn_attr *a,
	     struct rt_g **out)
{
	int err = 0;
	struct rt_g *g;
	if (a && a->stackaddr)
		g = rt_stack_user(a->stackaddr, a->stackaddr_size, &err);
	else
		/* the default gives at least defstack usable bytes; an
		 * explicit size includes the TLS, as in glibc */
		g = rt_stack_alloc(a && a->stacksize ? a->stacksize
						     : rt_sched.defstack + rt_tls.area,
				   a ? a->guardsize : 4096, &err);
	if (!g)
		return err;
	g->goid = (uint64_t)rt_xadd(&rt_sched.ngoid, 1);
	g->sigpending = g->sigproc = 0;
	g->intr = g->asyncsig = g->asyncpre = false;
	g->sigwaitset = 0;
	g->fn = fn;
	g->arg = arg;
	g->detached = a && a->detached;
	if (a && a->shimdata)
		memcpy(g->shim, a->shimdata, a->shimlen);
	if (a && a->tp_out)
		*a->tp_out = g->tp;
	struct rt_g *self = rt_getg();
	memcpy(g->name, self->name, sizeof g->name); /* Linux: inherited */
	g->sigmask = a && a->has_sigmask ? a->sigmask : self->sigmask;
	rt_tls_set_curg(g->tp, g);
	rt_ctx_make(&g->ctx, g->stk.hi, g->tp, gmain, g);
	rt_store(&g->magic, RT_G_MAGIC);
	rt_store(&g->status, (uint32_t)G_RUNNABLE);
	allg_add(g);
	rt_stats_spawn(rt_xadd(&rt_sched.nlive, 1));
	rt_xadd(&rt_sched.ngcreated, 1);
	RT_TRACE(rt_getm(), TR_CREATE, g, self->goid);
	if (out)
		*out = g;
	if (!rt_load(&rt_sched.sysmon_started) &&
	    rt_cas(&rt_sched.sysmon_started, 0u, 1u))
		rt_sysmon_start();
	rt_runqput(rt_getm()->p, g, true);
	rt_wakep();
	return 0;
}

static void goexit_m(struct rt_g *g, void *arg)
{
	allg_del(g);
	rt_store(&g->status, (uint32_t)G_DEAD);
	g->m = NULL;
	rt_lock(&g->joinlock);
	g->exited = true;
	bool detached = g->detached;
	/* Wake under joinlock: a joiner that timed out re-takes the lock
	 * before it can park again, so this wake cannot hit a later park. */
	if (!detached && g->joiner)
		rt_wake(g->joiner, RT_WOKEN);
	rt_unlock(&g->joinlock);
	if (detached && !g->ismain)
		rt_stack_free(g);
}

void rt_gexit(void *retval)
{
	struct rt_g *g = rt_getg();
	g->retval = retval;
	rt_sig_gexit(g);
	/* POSIX: the last thread to end makes the process exit(0). */
	if (rt_xadd(&rt_sched.nlive, -1) == 0)
		exit(0);
	RT_TRACE(g->m, TR_END, g, 0);
	mcall(goexit_m, NULL);
	rt_throw("a dead G was resumed");
}

static bool unlock_joinlock(struct rt_g *g, void *arg)
{
	rt_unlock(arg);
	return true;
}

int rt_join(struct rt_g *t, int64_t deadline, void **retval)
{
	struct rt_g *me = rt_getg();
	if (t == me)
		return EDEADLK;
	rt_lock(&t->joinlock);
	if (t->detached || (t->joiner && t->joiner != me)) {
		rt_unlock(&t->joinlock);
		return EINVAL;
	}
	while (!t->exited) {
		if (deadline == 0) {
			rt_unlock(&t->joinlock);
			return EBUSY;
		}
		if (rt_cannot_park()) { /* poll, blocking the OS thread */
			rt_unlock(&t->joinlock);
			if (deadline > 0 && rt_nanotime() >= deadline)
				return ETIMEDOUT;
			struct timespec ts = {0, 100000};
			rt_syscall2(SYS_nanosleep, &ts, NULL);
			rt_lock(&t->joinlock);
			continue;
		}
		t->joiner = me;
		rt_prepare_wait(me);
		int r = rt_park(unlock_joinlock, &t->joinlock, WAIT_JOIN,
				deadline);
		rt_lock(&t->joinlock);
		if (!t->exited && (r == RT_TIMEDOUT || r == RT_INTR)) {
			t->joiner = NULL;
			rt_unlock(&t->joinlock);
			return r == RT_INTR ? EINTR : ETIMEDOUT;
		}
	}
	if (retval)
		*retval = t->retval;
	t->joiner = NULL;
	t->detached = true; /* a second join now gets EINVAL */
	rt_unlock(&t->joinlock);
	if (!t->ismain)
		rt_stack_free(t);
	return 0;
}

int rt_detach(struct rt_g *t)
{
	rt_lock(&t->joinlock);
	if (t->detached) {
		rt_unlock(&t->joinlock);
		return EINVAL;
	}
	if (t->joiner) { /* being joined: glibc leaves it to the joiner */
		rt_unlock(&t->joinlock);
		return 0;
	}
	t->detached = true;
	bool exited = t->exited;
	rt_unlock(&t->joinlock);
	if (exited && !t->ismain)
		rt_stack_free(t);
	return 0;
}

/* As glibc's pthread_getattr_np: the block above the guard, including the
 * G, TCB and TLS at its top (so a thread asked for S bytes reports S). */
void rt_g_stack(struct rt_g *g, uintptr_t *lo, size_t *size, size_t *guard)
{
	*lo = g->stk.lo;
	*size = g->stk.base + g->stk.size - g->stk.lo;
	*guard = g->stk.guard;
}

/* ---- registries used to validate pthread_t values ----------------------- */

void rt_user_register(struct rt_g *g)
{
	rt_lock(&userlock);
	if (nusergs == capusergs) {
		size_t nc = capusergs ? capusergs * 2 : 16;
		struct rt_g **n = realloc(usergs, nc * sizeof *n);
		if (!n)
			rt_throw("out of memory registering a user stack");
		usergs = n;
		capusergs = nc;
	}
	usergs[nusergs++] = g;
	rt_unlock(&userlock);
}

void rt_user_unregister(struct rt_g *g)
{
	rt_lock(&userlock);
	for (size_t i = 0; i < nusergs; i++) {
		if (usergs[i] == g) {
			usergs[i] = usergs[--nusergs];
			break;
		}
	}
	rt_unlock(&userlock);
}

/* Not async-signal-safe with respect to concurrent registration; the
 * SIGSEGV handler uses it only as a best effort. */
struct rt_g *rt_user_find(uintptr_t addr, bool *in_guard)
{
	struct rt_g *found = NULL;
	if (!rt_trylock(&userlock))
		return NULL;
	for (size_t i = 0; i < nusergs; i++) {
		struct rt_g *g = usergs[i];
		if (addr >= g->stk.base && addr < g->stk.base + g->stk.size) {
			found = g;
			if (in_guard)
				*in_guard = false;
			break;
		}
	}
	rt_unlock(&userlock);
	return found;
}

/* dump.c: G1 and the Gs on program-provided stacks, then every slot G
 * (best effort: skips the user-stack list when its lock is busy). */
void rt_foreach_g(void (*fn)(struct rt_g *g, void *arg), void *arg)
{
	if (rt_load(&g1.magic) == RT_G_MAGIC)
		fn(&g1, arg);
	if (rt_trylock(&userlock)) {
		for (size_t i = 0; i < nusergs; i++)
			fn(usergs[i], arg);
		rt_unlock(&userlock);
	}
	rt_stack_foreach(fn, arg);
}

struct rt_g *rt_g_special(void *tp)
{
	if (tp == g1.tp && rt_load(&g1.magic) == RT_G_MAGIC)
		return &g1;
	return NULL;
}

/* ---- fork ------------------------------------------------------------------ */

/*
 * rt_after_fork_child: in the child of fork(), only the calling thread
 * exists (POSIX), running on the one OS thread the child has.  Rebuild
 * the scheduler around it: this M is the only M, it keeps its P, every
 * other P is idle, every queue, timer and waiter (all belonging to threads
 * that are gone) is dropped, locks are released, the netpoller gets its
 * own epoll instance, and sysmon starts again with the next thread.
 * Called from the atfork child handler, before the program's code runs.
 */
void rt_after_fork_child(void)
{
	struct rt_g *g = rt_getg();
	struct rt_m *m = g->m;
	m->tid = (pid_t)rt_syscall0(SYS_gettid);
	rt_tls_fork_child(g->tp, m == &m0 ? NULL : m->native_tp, m->tid,
			  g->ismain);
	rt_sched.lock.key = 0;
	userlock.key = 0;
	rt_sched.runqhead = rt_sched.runqtail = rt_sched.runqwoken = NULL;
	rt_sched.runqsize = 0;
	rt_sched.pidle = NULL;
	rt_sched.npidle = 0;
	rt_sched.midle = NULL;
	rt_sched.nmidle = 0;
	rt_sched.mcount = 1;
	rt_sched.nmspinning = 0;
	rt_sched.polling = 0;
	rt_sched.polluntil = 0;
	rt_sched.sysmon_started = 0;
	rt_sched.nlive = 1;
	rt_sched.allglock.key = 0;
	rt_sched.allg = g;
	g->allnext = g->allprev = NULL;
	rt_sig_fork_child();
	rt_preempt_minit(m); /* POSIX timers are not inherited */
	m->alllink = NULL;
	rt_sched.allm = m;
	m->spinning = false;
	m->schedlink = NULL;
	for (int i = rt_sched.nprocs - 1; i >= 0; i--) {
		struct rt_p *p = &rt_sched.allp[i];
		p->runqhead = p->runqtail = 0;
		p->runnext = NULL;
		/* Another M may have been half-way through this heap (even
		 * a realloc of it) at the fork: do not read it; its timers
		 * belong to threads that do not exist here.  Start afresh. */
		p->timerlock.key = 0;
		p->timers = NULL;
		p->ntimers = p->timercap = 0;
		p->timer0when = 0;
		if (p == m->p)
			continue;
		p->m = NULL;
		p->status = P_IDLE;
		p->link = rt_sched.pidle;
		rt_sched.pidle = p;
		rt_sched.npidle++;
	}
	rt_park_fork_child();
	rt_stack_fork_child();
	rt_netpoll_fork_child();
}

/* ---- start-up ------------------------------------------------------------ */

void rt_ctx_make(struct rt_ctx *c, uintptr_t top, void *tp,
		 void (*fn)(void *), void *arg)
{
	uint64_t *sp = (uint64_t *)((top & ~(uintptr_t)15) - 64);
	sp[0] = 0x1f80 | ((uint64_t)0x037f << 32); /* MXCSR, x87 CW */
	sp[1] = 0;                                 /* r15 */
	sp[2] = 0;                                 /* r14 */
	sp[3] = (uint64_t)arg;                     /* r13 */
	sp[4] = (uint64_t)fn;                      /* r12 */
	sp[5] = 0;                                 /* rbx */
	sp[6] = 0;                                 /* rbp */
	sp[7] = (uint64_t)rt_ctx_start;            /* return address */
	c->rsp = (uint64_t)sp;
	c->fsbase = (uint64_t)tp;
}

/* Runs on a fresh TLS block to learn where libc keeps the tcache. */
static struct rt_ctx probe_ret;
static void probe_main(void *arg)
{
	struct rt_g *pg = arg;
	rt_tls_gstart(pg->tp);
	rt_tls_probe_tcache_body(pg->tp);
	rt_ctx_switch(&pg->ctx, &probe_ret);
	__builtin_unreachable();
}

/* Linux names a new thread after its creator; the first one after the
 * program (/proc/self/comm), which pthread_getname_np reports natively. */
static void comm_name(char name[16])
{
	strcpy(name, "main");
	FILE *f = fopen("/proc/self/comm", "re");
	if (!f)
		return;
	if (fgets(name, 16, f))
		name[strcspn(name, "\n")] = 0;
	fclose(f);
}

static void main_stack(struct rt_g *g)
{
	extern void *__libc_stack_end;
	struct rlimit rl;
	size_t sz = 8 << 20;
	if (getrlimit(RLIMIT_STACK, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		sz = rl.rlim_cur;
	g->stk.hi = (uintptr_t)__libc_stack_end;
	g->stk.lo = g->stk.hi - sz;
	g->stk.base = g->stk.lo;
	g->stk.size = sz;
	g->stk.reqsize = sz;
	g->stk.user = true;
}

const char *rt_init(void)
{
	if (rt_started_flag)
		return NULL;
	const char *e = rt_tls_probe();
	if (e)
		return e;
	rt_stack_init();
	rt_sched.nprocs = rt_env_procs();
	rt_sched.defstack = rt_env_size("GREENRUN_STACK", 256 * 1024);
	rt_sched.maxmcount = (int32_t)rt_env_int("GREENRUN_MAXTHREADS", 10000,
						  4, 1000000);
	if (rt_sched.defstack < 16384) {
		rt_printf("greenrun: GREENRUN_STACK below 16K; using 16K\n");
		rt_sched.defstack = 16384;
	}
	rt_sched.allp = calloc((size_t)rt_sched.nprocs, sizeof(struct rt_p));
	if (!rt_sched.allp)
		return "out of memory";
	for (int i = rt_sched.nprocs - 1; i >= 0; i--) {
		struct rt_p *p = &rt_sched.allp[i];
		p->id = i;
		if (i > 0) {
			p->link = rt_sched.pidle;
			rt_sched.pidle = p;
			rt_sched.npidle++;
		}
	}
	if (rt_netpoll_init() != 0)
		return "cannot create the netpoller (epoll/eventfd)";

	/* G1 = the main thread, running on M0 with P0. */
	g1.magic = RT_G_MAGIC;
	g1.ismain = true;
	g1.goid = 1;
	rt_sched.ngoid = 1;
	g1.tp = rt_tls.main_tp;
	g1.ctx.fsbase = (uint64_t)rt_tls.main_tp;
	g1.status = G_RUNNING;
	g1.m = &m0;
	comm_name(g1.name);
	main_stack(&g1);
	m0.tid = (pid_t)rt_syscall0(SYS_gettid);
	m0.sigmask = g1.sigmask = current_kernel_mask();
	allg_add(&g1);
	m0.curg = &g1;
	m0.fastrand = 0x2545f491u;
	rt_curg_tls = &g1;
	acquirep(&m0, &rt_sched.allp[0]);
	rt_sched.mcount = 1;
	rt_sched.allm = &m0;

	/* M0's g0: its own slot and TLS block. */
	int err;
	struct rt_g *g0 = rt_stack_alloc(256 * 1024 + rt_tls.area, 4096, &err);
	if (!g0)
		return "cannot allocate the scheduler stack";
	g0->isg0 = true;
	g0->m = &m0;
	g0->status = G_RUNNING;
	rt_tls_set_curg(g0->tp, g0);
	rt_ctx_make(&g0->ctx, g0->stk.hi, g0->tp, g0main, &m0);
	m0.g0 = g0;
	m0.native_tp = g0->tp;

	/* Find libc's tcache word on a scratch block, then recycle it. */
	struct rt_g *pg = rt_stack_alloc(rt_sched.defstack + rt_tls.area, 4096,
					 &err);
	if (!pg)
		return "cannot allocate a probe stack";
	rt_tls_set_curg(pg->tp, pg);
	rt_tls_probe_tcache_prepare();
	probe_ret.fsbase = (uint64_t)rt_tls.main_tp;
	rt_ctx_make(&pg->ctx, pg->stk.hi, pg->tp, probe_main, pg);
	rt_ctx_switch(&probe_ret, &pg->ctx);
	rt_tls_probe_tcache_done();
	rt_stack_free(pg);

	rt_sched.nlive = 1;
	rt_signal_init();
	rt_signal_minit(&m0);
	rt_preempt_init();
	rt_preempt_minit(&m0);
	rt_started_flag = true;
	rt_diag_init();
	return NULL;
}

/* Used by rt_throw to name the failing thread. */
void rt_describe_current(char *buf, size_t len)
{
	struct rt_g *g = rt_getg();
	struct rt_m *m = g ? g->m : NULL;
	if (!g)
		rt_snprintf(buf, len, "an OS thread with no green thread "
			    "(sysmon, or before start-up)");
	else if (g->isg0)
		rt_snprintf(buf, len, "scheduler of M%d", m ? m->id : -1);
	else
		rt_snprintf(buf, len, "thread %lu \"%s\" on M%d",
			 (unsigned long)g->goid, g->name, m ? m->id : -1);
}
