/*
 * deadlock.c - "all threads are blocked": report a proven deadlock.
 *
 * Go's checkdead (proc.go) declares a deadlock when no M is running Go
 * code.  We must be stricter, because a green thread can also be woken by
 * the outside world in ways Go does not have.  A deadlock is reported only
 * when, on two consecutive sysmon looks at least 100 ms apart with no
 * scheduling progress in between (the sum of every M's context switches
 * and the count of created threads unchanged):
 *
 *   - every P is idle, the global run queue and every local queue are
 *     empty: nothing runs and nothing is about to run;
 *   - no timer is pending on any P (a sleeper or timed wait will wake);
 *   - no G waits in the netpoller (another process may write to its fd);
 *   - every live program G (count cross-checked against sched.nlive) is
 *     G_WAITING for synchronisation: mutex, cond, rwlock, barrier, join,
 *     once, semaphore or green futex.  A G in a system call (status
 *     running: sigwait, pause, waitpid, a process-shared futex) or
 *     runnable means no deadlock;
 *   - a G waiting on a semaphore or a raw futex could be posted by a
 *     signal handler (sem_post and FUTEX_WAKE are async-signal-safe): if
 *     the program has any signal handler of its own installed (checked
 *     with rt_sigaction; ours do not count), those waits do not prove
 *     anything and no deadlock is reported.
 *
 * Condition-variable waiters with no one to signal them while the other
 * threads are deadlocked are part of the same report.  The report is the
 * thread dump titled "all threads are blocked"; with GREENRUN_DEADLOCK=abort
 * the process then exits with status 2 (_exit: a deadlocked program's
 * stdio locks may be held by a parked thread).  The same stuck state is
 * reported once.
 *
 * Runs on sysmon, without locks: every check above is a lock-free read,
 * and the two-look rule filters out the instants in between (an M that
 * just dropped its P to hand a readied G to another, for instance).
 */
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "atomic.h"
#include "diag.h"
#include "internal.h"
#include "sys.h"

int rt_deadlock_mode = 1;
uint32_t rt_prog_has_handlers;

static uint64_t last_progress = UINT64_MAX;
static int64_t last_look;      /* when the first look saw a candidate */
static uint64_t reported_at = UINT64_MAX; /* progress value reported */
static uint64_t scanned_at = UINT64_MAX;  /* progress value last scanned */
static int64_t scan_time, scan_gap;       /* when, and backoff (ns) */

void rt_diag_need_sysmon(void)
{
	if (rt_deadlock_mode && rt_cas(&rt_sched.sysmon_started, 0u, 1u))
		rt_sysmon_start();
}

static uint64_t progress(void)
{
	uint64_t v = (uint64_t)rt_load(&rt_sched.ngcreated);
	for (struct rt_m *m = rt_load(&rt_sched.allm); m; m = m->alllink)
		v += rt_load_relaxed(&m->nswitch);
	return v;
}

/* Nothing is running, queued or timed, and nobody waits on an fd. */
static bool quiet(void)
{
	if (rt_load(&rt_sched.npidle) != rt_sched.nprocs ||
	    rt_load_relaxed(&rt_sched.runqsize) != 0 ||
	    rt_netpoll_waiters() != 0 || rt_load(&rt_sched.nlive) <= 0)
		return false;
	for (int i = 0; i < rt_sched.nprocs; i++) {
		struct rt_p *p = &rt_sched.allp[i];
		if (!rt_runqempty(p) || rt_load(&p->timer0when) != 0)
			return false;
	}
	return true;
}

struct scan {
	int64_t live;   /* non-dead Gs seen */
	bool stuck;     /* all of them wait on synchronisation */
	bool sigwake;   /* some wait a signal handler could end */
};

static void scan_g(struct rt_g *g, void *arg)
{
	struct scan *s = arg;
	uint32_t st = rt_load(&g->status);
	if (st == G_DEAD || st == G_IDLE)
		return;
	s->live++;
	if (st != G_WAITING) {
		s->stuck = false;
		return;
	}
	switch (rt_load_relaxed(&g->waitreason)) {
	case WAIT_MUTEX: case WAIT_COND: case WAIT_RWLOCK: case WAIT_BARRIER:
	case WAIT_JOIN: case WAIT_ONCE: case WAIT_SYNC:
		break;
	case WAIT_SEM: case WAIT_FUTEX:
		s->sigwake = true;
		break;
	default: /* sleep, IO wait, yield: something will wake it */
		s->stuck = false;
	}
}

/* Does the program have a signal handler of its own installed? */
static bool program_handlers(void)
{
	/* the program's dispositions live in shim/signal.c (the kernel runs
	 * our trampoline for them) */
	if (rt_sighooks.has_handlers)
		return rt_sighooks.has_handlers();
	for (int sig = 1; sig <= 64; sig++) {
		/* 32, 33: glibc's own SIGCANCEL/SIGSETXID handlers */
		if (sig == SIGKILL || sig == SIGSTOP || sig == 32 || sig == 33)
			continue;
		struct {
			void *handler;
			unsigned long flags;
			void *restorer;
			uint64_t mask;
		} ka;
		if (rt_syscall4(SYS_rt_sigaction, sig, NULL, &ka, 8) != 0)
			continue;
		uintptr_t h = (uintptr_t)ka.handler;
		if (h == (uintptr_t)SIG_DFL || h == (uintptr_t)SIG_IGN)
			continue;
		if (!rt_ip_is_ours(h))
			return true;
	}
	return false;
}

void rt_deadlock_check(int64_t now)
{
	if (!rt_deadlock_mode)
		return;
	if (!quiet()) {
		last_progress = UINT64_MAX;
		return;
	}
	uint64_t pr = progress();
	if (pr != last_progress) { /* first look at this state */
		last_progress = pr;
		last_look = now;
		return;
	}
	/* A million parked Gs are not walked every round while, say, one of
	 * them sits in waitpid(): the same state is rescanned after 1 s,
	 * 2 s, ... 16 s (a G can leave a system call and park again without
	 * a context switch, so an unchanged progress count is not proof). */
	if (now - last_look < 100000000 || pr == reported_at)
		return;
	if (pr == scanned_at && now - scan_time < scan_gap)
		return;
	scan_gap = pr == scanned_at && scan_gap < 16000000000 ? scan_gap * 2
							      : 1000000000;
	scanned_at = pr;
	scan_time = now;
	struct scan s = {0, true, false};
	rt_foreach_g(scan_g, &s);
	if (!s.stuck || s.live != rt_load(&rt_sched.nlive) || !quiet() ||
	    progress() != pr)
		return;
	if (s.sigwake && program_handlers())
		return;
	reported_at = pr;
	rt_dump(2, DUMP_DEADLOCK, NULL);
	if (rt_deadlock_mode == 2) {
		rt_printf("greenrun: deadlock: exiting with status 2 "
			  "(GREENRUN_DEADLOCK=abort)\n");
		rt_trace_finish();
		rt_syscall1(SYS_exit_group, 2);
	}
}
