/*
 * stats.c - diagnostics set-up, the exit report (GREENRUN_STATS=1) and the
 * scheduler trace line (GREENRUN_SCHEDTRACE=MS), as Go's
 * GODEBUG=schedtrace (proc.go schedtrace).
 *
 * Counters live where they are cheapest to bump: per M (nswitch,
 * npollwait) and per P (nsteal), written by their owner only, summed here
 * without locks (the sums are racy snapshots, exact once the program is
 * quiet); global ones are atomics in rt_sched and rt_stats.
 *
 * sysmon calls rt_diag_poll every round (20 us .. 10 ms): it serves dump
 * requests, prints schedtrace lines and runs the deadlock check.  All of
 * it is skipped with one load each when not asked for.
 *
 * The exit report runs from a library destructor, on the thread calling
 * exit(): other threads may still run meanwhile (POSIX exit does not stop
 * them), so the "still blocked" list is a snapshot.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>

#include "atomic.h"
#include "diag.h"
#include "internal.h"
#include "sys.h"

struct rt_stats rt_stats;
int64_t rt_coarse_now;
bool rt_stats_on;
int64_t rt_schedtrace_ns;
static int64_t schedtrace_next;
static int64_t start_ns;
static bool sigquit_dump;

void rt_trace_init(const char *path);

void rt_stats_stack(int64_t delta)
{
	int64_t v = rt_xadd(&rt_stats.stackbytes, delta);
	int64_t p = rt_load_relaxed(&rt_stats.peakstack);
	while (v > p && !rt_cas(&rt_stats.peakstack, p, v))
		p = rt_load_relaxed(&rt_stats.peakstack);
}

/* SIGQUIT (GREENRUN_SIGQUIT_DUMP=1): dump, then die of SIGQUIT as the
 * program would have.  The dump itself runs on sysmon; with no sysmon yet
 * (no thread was ever created) it runs here, in the handler. */
static void quit_handler(int sig, siginfo_t *si, void *uc)
{
	if (rt_load(&rt_sched.sysmon_started)) {
		rt_dump_request(0, DUMP_SIGQUIT);
		return;
	}
	rt_dump(2, DUMP_SIGQUIT, NULL);
	rt_trace_finish();
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	rt_os.sigaction(SIGQUIT, &sa, NULL);
	rt_syscall2(SYS_kill, rt_syscall0(SYS_getpid), SIGQUIT);
}

static void die_of_sigquit(void)
{
	rt_trace_finish();
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	rt_os.sigaction(SIGQUIT, &sa, NULL);
	rt_syscall2(SYS_kill, rt_syscall0(SYS_getpid), SIGQUIT);
}

static bool env_is(const char *name, const char *val)
{
	const char *v = getenv(name);
	return v && strcmp(v, val) == 0;
}

void rt_diag_init(void)
{
	start_ns = rt_nanotime();
	rt_stats_on = env_is("GREENRUN_STATS", "1");
	const char *d = getenv("GREENRUN_DEADLOCK");
	if (d && (!strcmp(d, "abort") || !strcmp(d, "2")))
		rt_deadlock_mode = 2;
	else if (d && (!strcmp(d, "0") || !strcmp(d, "off")))
		rt_deadlock_mode = 0;
	rt_schedtrace_ns = rt_env_int("GREENRUN_SCHEDTRACE", 0, 0, 3600000) * 1000000;
	schedtrace_next = start_ns + rt_schedtrace_ns;
	const char *t = getenv("GREENRUN_TRACE");
	if (t && t[0])
		rt_trace_init(t);
	if (env_is("GREENRUN_SIGQUIT_DUMP", "1")) {
		struct sigaction old;
		/* only when the program inherited the default action */
		if (rt_os.sigaction(SIGQUIT, NULL, &old) == 0 && !(old.sa_flags & SA_SIGINFO) &&
		    old.sa_handler == SIG_DFL) {
			struct sigaction sa;
			memset(&sa, 0, sizeof sa);
			sa.sa_sigaction = quit_handler;
			sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
			sigemptyset(&sa.sa_mask);
			rt_os.sigaction(SIGQUIT, &sa, NULL);
			sigquit_dump = true;
		}
	}
	/* schedtrace needs sysmon even before the first thread */
	if (rt_schedtrace_ns && rt_cas(&rt_sched.sysmon_started, 0u, 1u))
		rt_sysmon_start();
}

void rt_diag_poll(int64_t now)
{
	__atomic_store_n(&rt_coarse_now, now, __ATOMIC_RELAXED);
	int why = rt_dump_serve();
	if (why == DUMP_SIGQUIT)
		die_of_sigquit();
	if (rt_schedtrace_ns && now >= schedtrace_next) {
		schedtrace_next = now + rt_schedtrace_ns;
		rt_schedtrace(now);
	}
	rt_deadlock_check(now);
}

/* One line, as Go's schedtrace:
 * greenrun SCHED 1003ms: procs=2 idleprocs=1 threads=4 spinning=0
 *   idlethreads=1 runqueue=0 live=1001 [3 0] */
void rt_schedtrace(int64_t now)
{
	char line[1024];
	int k = rt_snprintf(line, sizeof line,
			    "greenrun SCHED %ldms: procs=%d idleprocs=%d threads=%d "
			    "spinning=%d idlethreads=%d runqueue=%d live=%ld [",
			    (long)((now - start_ns) / 1000000), rt_sched.nprocs,
			    (int)rt_load(&rt_sched.npidle),
			    (int)rt_load(&rt_sched.mcount) + 1,
			    (int)rt_load(&rt_sched.nmspinning),
			    (int)rt_load_relaxed(&rt_sched.nmidle),
			    (int)rt_load_relaxed(&rt_sched.runqsize),
			    (long)rt_load(&rt_sched.nlive));
	for (int i = 0; i < rt_sched.nprocs && k < (int)sizeof line - 16; i++) {
		struct rt_p *p = &rt_sched.allp[i];
		k += rt_snprintf(line + k, sizeof line - (size_t)k, "%s%u",
				 i ? " " : "",
				 rt_runqlen(p) + (rt_load_relaxed(&p->runnext) != NULL));
	}
	rt_snprintf(line + k, sizeof line - (size_t)k, "]\n");
	rt_printf("%s", line);
}

void rt_stats_report(void)
{
	uint64_t nswitch = 0, npoll = 0, nsteal = 0;
	int nm = 0;
	for (struct rt_m *m = rt_load(&rt_sched.allm); m; m = m->alllink) {
		nswitch += rt_load_relaxed(&m->nswitch);
		npoll += rt_load_relaxed(&m->npollwait);
		nm++;
	}
	for (int i = 0; i < rt_sched.nprocs; i++)
		nsteal += rt_load_relaxed(&rt_sched.allp[i].nsteal);
	int64_t peaklive = rt_load(&rt_stats.peaklive);
	if (peaklive < 1)
		peaklive = 1; /* main */
	int64_t el = rt_nanotime() - start_ns;
	rt_printf("greenrun: stats: pid %d, %ld.%ld%ld%ld s, %d Ps\n"
		  "greenrun: stats: threads created %ld, peak live %ld, "
		  "still live %ld\n"
		  "greenrun: stats: context switches %lu, steals %lu, "
		  "netpoll waits %lu\n"
		  "greenrun: stats: syscall handoffs %ld, preemptions %ld\n"
		  "greenrun: stats: peak OS threads %d (+ sysmon), "
		  "peak stack bytes %ld, stacks given back %ld\n",
		  (int)rt_syscall0(SYS_getpid),
		  (long)(el / 1000000000), (long)(el / 100000000 % 10),
		  (long)(el / 10000000 % 10), (long)(el / 1000000 % 10),
		  rt_sched.nprocs, (long)rt_load(&rt_sched.ngcreated),
		  (long)peaklive, (long)rt_load(&rt_sched.nlive),
		  (unsigned long)nswitch, (unsigned long)nsteal,
		  (unsigned long)npoll, (long)rt_load(&rt_sched.nhandoff),
		  (long)rt_load(&rt_sched.npreempt), nm,
		  (long)rt_load(&rt_stats.peakstack),
		  (long)rt_load(&rt_stats.nstackgc));
	rt_dump(2, DUMP_EXIT, NULL);
}

/* At exit (main returned or exit() was called): the report, then the
 * trace's last events. */
__attribute__((destructor)) static void diag_fini(void)
{
	if (!rt_started())
		return;
	if (rt_schedtrace_ns) /* the state at exit, whatever the period */
		rt_schedtrace(rt_nanotime());
	if (rt_stats_on)
		rt_stats_report();
	rt_trace_finish();
}
