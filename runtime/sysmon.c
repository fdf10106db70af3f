/*
 * sysmon.c - the system monitor: an OS thread without a P (Go's sysmon,
 * proc.go), started with the program's first thread.
 *
 * Now it does one job: retake the P of an M that has been inside a system
 * call (rt_entersyscall) for more than ~20 us and hand it to another M,
 * so one G blocked in a regular-file read or waitpid cannot stall the
 * others on its P.  A P is retaken when its syscalltick has not moved
 * between two looks at least 20 us apart, unless it has no other work and
 * someone is idle or spinning anyway (then only after 10 ms, as Go).  The
 * M finds out in rt_exitsyscall (the CAS SYSCALL->RUNNING fails) and gets
 * another P or parks.
 *
 * It also asks for the preemption of a G that has run for more than
 * GREENRUN_PREEMPT_MS without its P scheduling (preempt.c), routes the
 * process-directed signals the trampoline queued (rt_sig_dispatch, woken
 * at once through rt_sig_note) and kicks running Gs that have signals to
 * take (sig.c).
 *
 * And the diagnostics (diag.h): it serves `greenrun dump` and SIGQUIT
 * dump requests, prints GREENRUN_SCHEDTRACE lines and checks for
 * deadlocks, each round.
 *
 * Sleep: 20 us while it finds work to do; after 50 idle rounds the
 * interval doubles up to 10 ms (so a CPU-bound G is preempted 10-20 ms
 * after it started).
 *
 * Runs without a G: it must not call anything that uses rt_getg(), nor any
 * libc name that shim/ interposes (raw system calls instead).
 */
#include <signal.h>
#include <stdlib.h>
#include <time.h>

#include "atomic.h"
#include "diag.h"
#include "internal.h"
#include "sys.h"
#include <sys/syscall.h>

struct pseen {
	uint32_t syscalltick;
	int64_t since;    /* first time we saw this syscalltick */
	uint32_t schedtick;
	int64_t runsince; /* first time we saw this schedtick, running */
	int64_t lastsig;  /* last preemption request */
	int64_t lastkick; /* last signal-delivery kick */
};

/* Preempt the G of a P that has not scheduled for rt_preempt_ns; ask
 * again every ms while it stays at an unsafe point.  Returns 1 if asked. */
static int check_preempt(struct rt_p *p, struct pseen *s, int64_t now)
{
	uint32_t t = rt_load_relaxed(&p->schedtick);
	if (s->runsince == 0 || s->schedtick != t) {
		s->schedtick = t;
		s->runsince = now;
		return 0;
	}
	/* A timer of this P is overdue while its G keeps running: nobody
	 * else will run that heap soon, so preempt now (timer latency). */
	int64_t tw = rt_load(&p->timer0when);
	bool overdue = tw && now - tw > 200000 && now - s->runsince > 200000;
	if (!rt_preempt_ns ||
	    (!overdue && now - s->runsince < rt_preempt_ns) ||
	    now - s->lastsig < 1000000)
		return 0;
	s->lastsig = now;
	rt_preempt_p(p);
	return 1;
}

/* Has the G on p run for at least 1 ms (p's schedtick unchanged since
 * sysmon first saw it, 1 ms or more ago)? */
static bool long_running(struct rt_p *p, struct pseen *s, int64_t now)
{
	return rt_load(&p->status) == P_RUNNING && s->runsince &&
	       s->schedtick == rt_load_relaxed(&p->schedtick) &&
	       now - s->runsince >= 1000000;
}

/* Wake-up preemption while every P is stuck in a long-running G (none
 * has scheduled for 1 ms or more):
 *   - network readiness: no M polls then, so poll without blocking once
 *     the netpoller has not run for SYSMON_POLL_NS (Go's sysmon does it
 *     after 10 ms) and put the woken Gs on the global queue, where they
 *     overtake the preempted ones (runq.c);
 *   - then preempt, for each woken G (at least one if woken Gs already
 *     wait there: readied by a P's last poll, a system call's end), a P
 *     whose G has run for more than 1 ms, longest first.
 * Timers have the per-M wake-up timer instead (preempt.c).  While some P
 * keeps scheduling, its M polls (findrunnable; every 61st tick at the
 * latest) and runs the global queue, and sysmon stays out of the way:
 * polling from here whenever one P looked stuck (often only its M
 * descheduled by the kernel) cost 10% of the echo requests/s at 10,000
 * connections.  Returns the number of Gs woken. */
#define SYSMON_POLL_NS 500000
static int sysmon_wakepreempt(struct pseen *seen, int64_t now)
{
	for (int i = 0; i < rt_sched.nprocs; i++)
		if (!long_running(&rt_sched.allp[i], &seen[i], now))
			return 0;
	int n = 0;
	if (rt_netpoll_waiters() > 0 && !rt_load(&rt_sched.polling) &&
	    now - rt_load(&rt_sched.lastpoll) >= SYSMON_POLL_NS) {
		struct rt_g *list = rt_netpoll(0, &n);
		rt_injectglist(list, n);
	}
	int want = n;
	if (!want && rt_load_relaxed(&rt_sched.runqwoken)) /* racy peek */
		want = 1;
	for (int k = 0; k < want; k++) {
		struct rt_p *best = NULL;
		struct pseen *bs = NULL;
		for (int i = 0; i < rt_sched.nprocs; i++) {
			struct rt_p *p = &rt_sched.allp[i];
			struct pseen *s = &seen[i];
			if (!long_running(p, s, now) ||
			    now - s->lastsig < 1000000)
				continue;
			if (!bs || s->runsince < bs->runsince) {
				best = p;
				bs = s;
			}
		}
		if (!best)
			break;
		bs->lastsig = now;
		rt_xadd(&rt_sched.nwakepreempt, 1);
		rt_preempt_p(best);
	}
	return n;
}

/* A G running on p has a signal to take (sent while it was inside
 * greenrun or runnable): kick its M, at most every 200 us while it stays
 * at unsafe points.  Returns 1 if kicked. */
static int check_signals(struct rt_p *p, struct pseen *s, int64_t now)
{
	struct rt_m *m = rt_load(&p->m);
	struct rt_g *g = m ? rt_load(&m->curg) : NULL;
	if (!g || g->isg0 || !rt_sig_deliverable(g) || now - s->lastkick < 200000)
		return 0;
	s->lastkick = now;
	rt_sig_kick_m(m);
	return 1;
}

static void *sysmon(void *arg)
{
	/* No program signal handler may run here: there is no G or M.
	 * glibc's own SIGCANCEL/SIGSETXID (32, 33) stay open: setuid() in
	 * a threaded process waits for every OS thread to answer 33. */
	uint64_t all = ~0ull & ~((1ull << (SIGSEGV - 1)) | (1ull << (SIGBUS - 1)) |
				 (1ull << (SIGFPE - 1)) | (1ull << (SIGILL - 1)) |
				 (1ull << 31) | (1ull << 32));
	rt_syscall4(SYS_rt_sigprocmask, SIG_SETMASK, &all, NULL, 8);
	struct pseen *seen = calloc((size_t)rt_sched.nprocs, sizeof *seen);
	if (!seen)
		return NULL;
	int64_t delay_us = 20;
	int idle = 0;
	for (;;) {
		/* Sleep, or until a signal arrives for routing (sig.c). */
		if (!rt_xchg(&rt_sig_note, 0u)) {
			rt_futex_wait_os(&rt_sig_note, 0, delay_us * 1000);
			rt_store(&rt_sig_note, 0u);
		}
		rt_sig_dispatch();
		int64_t now = rt_nanotime();
		rt_sig_resend_scan(now);
		int retaken = 0;
		rt_diag_poll(now); /* dumps, schedtrace, deadlock check */
		for (int i = 0; i < rt_sched.nprocs; i++) {
			struct rt_p *p = &rt_sched.allp[i];
			uint32_t st = rt_load(&p->status);
			if (st == P_RUNNING)
				retaken += check_signals(p, &seen[i], now);
			if (st == P_RUNNING)
				retaken += check_preempt(p, &seen[i], now);
			else
				seen[i].runsince = 0;
			if (st != P_SYSCALL) {
				seen[i].since = 0;
				continue;
			}
			uint32_t t = rt_load_relaxed(&p->syscalltick);
			if (seen[i].since == 0 || seen[i].syscalltick != t) {
				seen[i].syscalltick = t;
				seen[i].since = now;
				continue;
			}
			int64_t in = now - seen[i].since;
			if (in < 20000)
				continue;
			if (rt_runqempty(p) &&
			    rt_load(&rt_sched.nmspinning) +
				    rt_load(&rt_sched.npidle) > 0 &&
			    in < 10000000)
				continue;
			if (rt_cas(&p->status, (uint32_t)P_SYSCALL,
				   (uint32_t)P_IDLE)) {
				seen[i].since = 0;
				rt_xadd(&rt_sched.nhandoff, 1);
				if (rt_trace_on)
					rt_trace_sysmon(TR_HANDOFF, (uint64_t)i);
				rt_handoffp(p);
				retaken++;
			}
		}
		retaken += sysmon_wakepreempt(seen, now);
		if (retaken || idle < 50) {
			idle = retaken ? 0 : idle + 1;
			delay_us = 20;
		} else if (delay_us < 10000) {
			delay_us *= 2;
		}
		/* Wake for the next timer of a busy P (overdue check above). */
		int64_t next = 0;
		for (int i = 0; i < rt_sched.nprocs; i++) {
			struct rt_p *p = &rt_sched.allp[i];
			int64_t w = rt_load(&p->timer0when);
			if (w && rt_load(&p->status) == P_RUNNING &&
			    (!next || w < next))
				next = w;
		}
		if (next) {
			int64_t until = (next + 300000 - rt_nanotime()) / 1000;
			if (until < 20)
				until = 20;
			if (until < delay_us)
				delay_us = until;
		}
		/* A signal pending on a G that may be blocked in a system
		 * call: repeat its copy within 1 ms (sig.c). */
		if (rt_sig_resend_active() && delay_us > 1000)
			delay_us = 1000;
		/* Gs wait on fds and no M blocks in the netpoller, or woken
		 * Gs wait on the global queue: look again within 1 ms for
		 * Ps stuck in long-running Gs (sysmon_wakepreempt). */
		if (((rt_netpoll_waiters() > 0 && !rt_load(&rt_sched.polling)) ||
		     rt_load_relaxed(&rt_sched.runqwoken)) &&
		    delay_us > 1000)
			delay_us = 1000;
	}
	return NULL;
}

void rt_sysmon_start(void)
{
	if (rt_os.thread_create(sysmon, NULL, 64 * 1024 + rt_tls.static_size) != 0)
		rt_printf("greenrun: cannot start sysmon; blocking system "
			  "calls will hold their P\n");
}
