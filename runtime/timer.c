/*
 * timer.c - per-P timer heaps (binary min-heap on `when`).
 *
 * Each P owns a heap of struct rt_timer, guarded by p->timerlock.  A timer
 * is added to the adding M's P and stays on that heap until it fires or is
 * deleted; t->p names the heap (atomic; cleared under the lock after the
 * timer's function ran, or on delete), so delete can find it from any M.  Timer functions run under the heap's lock,
 * which makes rt_timer_del a barrier: once it returns, the function is not
 * running and never will (the waiter may then free the memory).
 *
 * p->timer0when mirrors the earliest deadline so findrunnable and the
 * netpoller read it without locks.  When a timer earlier than the blocked
 * netpoller's deadline is added, the netpoller is woken to re-arm
 * (Go's wakeNetPoller).  Lock order: timerlock before sched.lock.
 *
 * Rejected: one global heap (a lock shared by every sleeper on every P);
 * Go's 4-ary heap (a later optimisation).
 */
#include <stdlib.h>

#include "atomic.h"
#include "internal.h"

static void swap_at(struct rt_p *p, int32_t i, int32_t j)
{
	struct rt_timer *a = p->timers[i], *b = p->timers[j];
	p->timers[i] = b;
	p->timers[j] = a;
	b->idx = i;
	a->idx = j;
}

static void siftup(struct rt_p *p, int32_t i)
{
	while (i > 0) {
		int32_t parent = (i - 1) / 2;
		if (p->timers[parent]->when <= p->timers[i]->when)
			break;
		swap_at(p, i, parent);
		i = parent;
	}
}

static void siftdown(struct rt_p *p, int32_t i)
{
	for (;;) {
		int32_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < p->ntimers && p->timers[l]->when < p->timers[m]->when)
			m = l;
		if (r < p->ntimers && p->timers[r]->when < p->timers[m]->when)
			m = r;
		if (m == i)
			return;
		swap_at(p, i, m);
		i = m;
	}
}

static void update0(struct rt_p *p)
{
	rt_store(&p->timer0when, p->ntimers ? p->timers[0]->when : (int64_t)0);
}

static void removeat(struct rt_p *p, int32_t i)
{
	struct rt_timer *t = p->timers[i];
	int32_t last = --p->ntimers;
	if (i != last) {
		p->timers[i] = p->timers[last];
		p->timers[i]->idx = i;
		siftdown(p, i);
		siftup(p, i);
	}
	t->idx = -1;
}

void rt_timer_add(struct rt_p *p, struct rt_timer *t)
{
	rt_lock(&p->timerlock);
	if (p->ntimers == p->timercap) {
		int32_t nc = p->timercap ? p->timercap * 2 : 64;
		struct rt_timer **n = realloc(p->timers, (size_t)nc * sizeof *n);
		if (!n)
			rt_throw("out of memory growing a timer heap");
		p->timers = n;
		p->timercap = nc;
	}
	t->idx = p->ntimers++;
	p->timers[t->idx] = t;
	rt_store(&t->p, p);
	siftup(p, t->idx);
	update0(p);
	bool first = p->timers[0] == t;
	rt_unlock(&p->timerlock);

	/* The new earliest deadline of this M's own P, while other Gs are
	 * queued to run meanwhile (here or on the global queue, where
	 * preempted Gs go): one of them may still be computing when it
	 * falls due.  Ask for a wake-up preemption then (preempt.c). */
	if (first && (!rt_runqempty(p) ||
		      rt_load_relaxed(&rt_sched.runqsize) > 0)) {
		struct rt_g *g = rt_getg();
		if (g && g->m && g->m->p == p)
			rt_preempt_arm(g->m, t->when);
	}

	/* Wake the netpoller if it sleeps past this deadline.  Pairs with
	 * findrunnable: polling is set before polluntil is computed. */
	if (rt_load(&rt_sched.polling)) {
		int64_t pu = rt_load(&rt_sched.polluntil);
		if (pu == 0 || t->when < pu)
			rt_netpoll_break();
	}
}

bool rt_timer_del(struct rt_timer *t)
{
	for (;;) {
		struct rt_p *p = rt_load(&t->p);
		if (!p)
			return false;
		rt_lock(&p->timerlock);
		if (rt_load(&t->p) != p) { /* fired or moved meanwhile */
			rt_unlock(&p->timerlock);
			continue;
		}
		removeat(p, t->idx);
		rt_store(&t->p, (struct rt_p *)NULL);
		update0(p);
		rt_unlock(&p->timerlock);
		return true;
	}
}

int64_t rt_timers_run(struct rt_p *p, int64_t now)
{
	int64_t w = rt_load(&p->timer0when);
	if (!w || w > now)
		return w;
	rt_lock(&p->timerlock);
	while (p->ntimers > 0 && p->timers[0]->when <= now) {
		struct rt_timer *t = p->timers[0];
		removeat(p, 0);
		t->f(t);
		/* Cleared only after f: a concurrent rt_timer_del that saw
		 * t->p == p waits on timerlock until f is done. */
		rt_store(&t->p, (struct rt_p *)NULL);
	}
	update0(p);
	w = p->ntimers ? p->timers[0]->when : 0;
	rt_unlock(&p->timerlock);
	return w;
}
