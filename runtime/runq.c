/*
 * runq.c - per-P local run queues and the global run queue.
 *
 * Local queue (as Go's runqput/runqget/runqgrab/runqsteal, proc.go): a
 * fixed ring of RT_RUNQ_SIZE G pointers with free-running 32-bit head and
 * tail.  Only the owner P's M writes tail (store-release) and the ring
 * slots at tail; any M may consume from head by CAS, so stealing needs no
 * lock.  runnext holds one G that runs before the ring (a G just readied
 * by the running G: keeps a producer/consumer pair on one P, good for
 * ping-pong latency); it is taken by CAS.
 *
 * Overflow: when the ring is full, half of it plus the new G move to the
 * global queue in one batch under sched.lock (runqputslow).
 *
 * Global queue: a singly linked list through g->schedlink, guarded by
 * sched.lock, in two runs: first the Gs made runnable by a wake-up (netpoll,
 * the end of a system call, a local ring's overflow), FIFO, up to and
 * including runqwoken; then the preempted Gs (rt_globrunqput_preempted),
 * FIFO.  A G woken by I/O while every P is busy so overtakes the CPU-bound
 * Gs that were preempted before it, instead of waiting one 10 ms slice per
 * CPU-bound G (what Go's single FIFO does).  No starvation of the preempted
 * run: findrunnable's every-61st-tick pick takes its oldest
 * (rt_globrunqget_preempted).  globrunqget takes a fair share
 * (size/nprocs + 1) from the head and moves all but one onto the local
 * ring.
 */
#include "atomic.h"
#include "internal.h"

#define RQ_MASK (RT_RUNQ_SIZE - 1)
_Static_assert((RT_RUNQ_SIZE & RQ_MASK) == 0, "RT_RUNQ_SIZE power of 2");

uint32_t rt_runqlen(struct rt_p *p)
{
	return rt_load_acq(&p->runqtail) - rt_load_acq(&p->runqhead);
}

bool rt_runqempty(struct rt_p *p)
{
	/* Read head, tail, runnext, then tail again: a G moving from
	 * runnext to the ring between the reads would otherwise hide. */
	for (;;) {
		uint32_t h = rt_load(&p->runqhead);
		uint32_t t = rt_load(&p->runqtail);
		struct rt_g *n = rt_load(&p->runnext);
		if (t == rt_load(&p->runqtail))
			return h == t && n == NULL;
	}
}

/* Insert head..tail (n Gs) after the woken run. */
void rt_globrunqputbatch(struct rt_g *head, struct rt_g *tail, int n)
{
	struct rt_g *w = rt_sched.runqwoken;
	if (w) {
		tail->schedlink = w->schedlink;
		w->schedlink = head;
	} else {
		tail->schedlink = rt_sched.runqhead;
		rt_sched.runqhead = head;
	}
	if (rt_sched.runqtail == w) /* also: both NULL, an empty queue */
		rt_sched.runqtail = tail;
	rt_sched.runqwoken = tail;
	rt_store_relaxed(&rt_sched.runqsize, rt_sched.runqsize + n);
}

void rt_globrunqput(struct rt_g *g) { rt_globrunqputbatch(g, g, 1); }

void rt_globrunqput_preempted(struct rt_g *g)
{
	g->schedlink = NULL;
	if (rt_sched.runqtail)
		rt_sched.runqtail->schedlink = g;
	else
		rt_sched.runqhead = g;
	rt_sched.runqtail = g;
	rt_store_relaxed(&rt_sched.runqsize, rt_sched.runqsize + 1);
}

struct rt_g *rt_globrunqget_preempted(void)
{
	struct rt_g *w = rt_sched.runqwoken;
	struct rt_g *g = w ? w->schedlink : rt_sched.runqhead;
	if (!g)
		return NULL;
	if (w)
		w->schedlink = g->schedlink;
	else
		rt_sched.runqhead = g->schedlink;
	if (rt_sched.runqtail == g)
		rt_sched.runqtail = w;
	g->schedlink = NULL;
	rt_store_relaxed(&rt_sched.runqsize, rt_sched.runqsize - 1);
	return g;
}

/* Move half the ring plus g to the global queue.  False if a stealer
 * raced us (caller retries the fast path). */
static bool runqputslow(struct rt_p *p, struct rt_g *g, uint32_t h,
			uint32_t t)
{
	struct rt_g *batch[RT_RUNQ_SIZE / 2 + 1];
	uint32_t n = (t - h) / 2;
	for (uint32_t i = 0; i < n; i++)
		batch[i] = rt_load_relaxed(&p->runq[(h + i) & RQ_MASK]);
	if (!rt_cas_rel(&p->runqhead, h, h + n))
		return false;
	batch[n] = g;
	for (uint32_t i = 0; i < n; i++)
		batch[i]->schedlink = batch[i + 1];
	rt_lock(&rt_sched.lock);
	rt_globrunqputbatch(batch[0], batch[n], (int)n + 1);
	rt_unlock(&rt_sched.lock);
	return true;
}

void rt_runqput(struct rt_p *p, struct rt_g *g, bool next)
{
	if (next) {
		struct rt_g *old = rt_xchg(&p->runnext, g);
		if (!old)
			return;
		g = old; /* kick the old runnext to the ring */
	}
	for (;;) {
		uint32_t h = rt_load_acq(&p->runqhead); /* pairs with consumers' CAS */
		uint32_t t = p->runqtail;
		if (t - h < RT_RUNQ_SIZE) {
			rt_store_relaxed(&p->runq[t & RQ_MASK], g);
			rt_store_rel(&p->runqtail, t + 1); /* publishes the slot */
			return;
		}
		if (runqputslow(p, g, h, t))
			return;
	}
}

struct rt_g *rt_runqget(struct rt_p *p)
{
	struct rt_g *next = rt_load(&p->runnext);
	if (next && rt_cas(&p->runnext, next, NULL))
		return next;
	for (;;) {
		uint32_t h = rt_load_acq(&p->runqhead);
		uint32_t t = p->runqtail;
		if (t == h)
			return NULL;
		struct rt_g *g = rt_load_relaxed(&p->runq[h & RQ_MASK]);
		if (rt_cas_rel(&p->runqhead, h, h + 1))
			return g;
	}
}

/* Grab half of victim's ring into batch[bh...]; with stealnext, take its
 * runnext when the ring is empty.  Returns how many were grabbed. */
static uint32_t runqgrab(struct rt_p *v, struct rt_g **batch, uint32_t bh,
			 bool stealnext)
{
	for (;;) {
		uint32_t h = rt_load_acq(&v->runqhead);
		uint32_t t = rt_load_acq(&v->runqtail);
		uint32_t n = t - h;
		n = n - n / 2;
		if (n == 0) {
			if (!stealnext)
				return 0;
			struct rt_g *next = rt_load(&v->runnext);
			if (!next)
				return 0;
			/* The victim probably is about to run it (it was just
			 * readied by its running G): give it ~3 us first, as
			 * Go does, to avoid bouncing Gs between Ps. */
			if (rt_load_relaxed(&v->status) == P_RUNNING) {
				for (int i = 0; i < 300; i++)
					rt_cpu_relax();
			}
			if (!rt_cas(&v->runnext, next, NULL))
				continue;
			batch[bh & RQ_MASK] = next;
			return 1;
		}
		if (n > RT_RUNQ_SIZE / 2) /* inconsistent h/t read: retry */
			continue;
		for (uint32_t i = 0; i < n; i++)
			batch[(bh + i) & RQ_MASK] =
			    rt_load_relaxed(&v->runq[(h + i) & RQ_MASK]);
		if (rt_cas_rel(&v->runqhead, h, h + n))
			return n;
	}
}

struct rt_g *rt_runqsteal(struct rt_p *p, struct rt_p *v, bool stealnext)
{
	uint32_t t = p->runqtail;
	uint32_t n = runqgrab(v, p->runq, t, stealnext);
	if (n == 0)
		return NULL;
	p->nsteal += n; /* statistics; owner M */
	n--;
	struct rt_g *g = p->runq[(t + n) & RQ_MASK];
	if (n == 0)
		return g;
	uint32_t h = rt_load_acq(&p->runqhead);
	if (t - h + n >= RT_RUNQ_SIZE)
		rt_throw("runqsteal: local queue overflow");
	rt_store_rel(&p->runqtail, t + n);
	return g;
}

struct rt_g *rt_globrunqget(struct rt_p *p, int max)
{
	int32_t size = rt_sched.runqsize;
	if (size == 0)
		return NULL;
	int32_t n = size / rt_sched.nprocs + 1;
	if (n > size)
		n = size;
	if (max > 0 && n > max)
		n = max;
	if (n > RT_RUNQ_SIZE / 2)
		n = RT_RUNQ_SIZE / 2;
	/* Only woken Gs move to the local ring in a batch: preempted ones
	 * come one at a time, or a G woken later would wait behind them
	 * on this P's ring, a slice each. */
	int32_t took = 0;
	struct rt_g *g = NULL;
	while (took < n && rt_sched.runqhead) {
		if (took > 0 && !rt_sched.runqwoken)
			break;
		struct rt_g *h = rt_sched.runqhead;
		rt_sched.runqhead = h->schedlink;
		if (h == rt_sched.runqwoken)
			rt_sched.runqwoken = NULL;
		if (took++ == 0)
			g = h;
		else
			rt_runqput(p, h, false);
	}
	if (!rt_sched.runqhead)
		rt_sched.runqtail = NULL;
	rt_store_relaxed(&rt_sched.runqsize, size - took);
	g->schedlink = NULL;
	return g;
}

bool rt_canspin(void)
{
	struct rt_g *g = rt_getg();
	if (rt_sched.nprocs <= 1 || !g || g->isg0)
		return false;
	return rt_load_relaxed(&rt_sched.npidle) +
		       rt_load_relaxed(&rt_sched.nmspinning) + 1 <
	       rt_sched.nprocs;
}
