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
	}
	return NULL;
}

void rt_sysmon_start(void)
{
	if (rt_os.thread_create(sysmon, NULL, 64 * 1024 + rt_tls.static_size) != 0)
		rt_printf("greenrun: cannot start sysmon; blocking system "
			  "calls will hold their P\n");
}
