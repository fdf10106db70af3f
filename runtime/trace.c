/*
 * trace.c - GREENRUN_TRACE=FILE: a scheduler event trace in the Chrome
 * trace-event JSON format (the "JSON Array Format" of the Trace Event
 * Format document), which Perfetto (ui.perfetto.dev), chrome://tracing and
 * `greenrun trace FILE --html OUT.html` open.  As Go's runtime/trace
 * (trace.go) in spirit: per-M buffers, no locks on the event path.
 *
 * Lanes ("tid" in the JSON, all in "pid" 1):
 *   0 .. nprocs-1   P0, P1, ...: one span ("ph":"X", cat "run") per stretch
 *                   a G ran on that P, named "G<id> <name>", with
 *                   args {g, m, end, reason}: end is block / yield /
 *                   preempt / exit, reason the wait reason of a block.
 *   1000 + M id     M0, M1, ...: system calls (cat "syscall", spans) and
 *                   blocking netpoll waits (cat "netpoll", args {ready}).
 *   999             sysmon: syscall handoffs (instant "handoff", args {p}).
 * Instant events ("ph":"i", cat "sched") on the lane of the P (or M when
 * it has none) where they happened: "create" {g, parent}, "unblock"
 * {g, by} (by: waker's id, 0 for the runtime: timers, netpoll),
 * "stackgc" {bytes} (a stack slot's memory returned to the kernel).
 * ts and dur are microseconds (3 decimals) since the trace started.
 *
 * Cost.  Off: every hook is `if (rt_trace_on)` on a byte that never
 * changes after start-up.  On: an event is ~64 bytes appended to the
 * M's own buffer (owner M only, no atomics) plus one rdtsc; a full buffer
 * (4096 events) is handed to the writer thread, which formats and writes
 * it under trace_lock (the M itself does when 8 buffers already wait).  An event from a signal handler that interrupted the same
 * M's append is dropped (busy flag).
 *
 * End.  rt_trace_finish (exit, fatal error, deadlock abort) flushes every
 * buffer under its lock and closes the array with "]".  A process killed
 * outright leaves the array open, which the format allows.  The file's
 * fd is moved high (as the netpoller's) so the program's fd numbers do
 * not change; a program that closes every fd also closes the trace.  A
 * fork child inherits the file but never writes to it (pid check at each
 * flush): the trace is the parent's.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include "atomic.h"
#include "diag.h"
#include "internal.h"
#include "sys.h"

#define TRACE_BUF 4096

uint8_t rt_trace_on;

struct trev {
	int64_t ts, dur;
	uint64_t g, arg;
	int32_t lane, m;
	uint32_t type;
	char name[16];
};

struct rt_tracebuf {
	struct rt_tracebuf *next; /* writer queue / spare pool; qlock */
	rt_mutex lock;     /* hand-off/flush: owner vs rt_trace_finish */
	uint32_t busy;     /* owner M: inside rt_trace (signal reentry) */
	uint32_t n;        /* events in ev; owner writes (release) */
	struct trev ev[TRACE_BUF];
};

static int trace_fd = -1;
static int trace_pid;             /* the traced process (not a fork child) */
static rt_mutex trace_lock;       /* guards writes to trace_fd, finished */
static bool finished;             /* under trace_lock (read racily) */
static int64_t trace_t0;
static struct rt_tracebuf *sysmon_tb;

/* Timestamps are TSC ticks (rdtsc: ~10 ns cheaper than the vDSO clock on
 * every event; this kernel trusts the TSC: constant_tsc, nonstop_tsc),
 * converted to CLOCK_MONOTONIC ns when written, with the rate measured
 * between rt_trace_init and the flush (longer runs: better estimates).
 * Without a usable TSC (the kernel's clocksource is not "tsc") events use
 * rt_nanotime() directly.  Guarded by trace_lock. */
static bool use_tsc;
static uint64_t tsc0;
static int64_t ns0;
static double ns_per_tick = 1.0;

static inline int64_t stamp(void)
{
	if (use_tsc)
		return (int64_t)__builtin_ia32_rdtsc();
	return rt_nanotime();
}

int64_t rt_trace_stamp(void) { return stamp(); }

static void tsc_calibrate(void)
{
	if (!use_tsc)
		return;
	uint64_t t = __builtin_ia32_rdtsc();
	int64_t ns = rt_nanotime();
	if (t > tsc0 + 100000 && ns > ns0)
		ns_per_tick = (double)(ns - ns0) / (double)(t - tsc0);
}

static inline int64_t tsc_ns(int64_t ts)
{
	if (!use_tsc)
		return ts;
	return ns0 + (int64_t)((double)((uint64_t)ts - tsc0) * ns_per_tick);
}

static void wr(const char *b, size_t n)
{
	while (n > 0) {
		long r = rt_syscall3(SYS_write, trace_fd, b, n);
		if (r == -EINTR)
			continue;
		if (r <= 0)
			return;
		b += r;
		n -= (size_t)r;
	}
}

/* ---- a small, fast JSON writer (the formatting is most of the cost) -- */

struct jw {
	char *b;
	size_t n;
};

static inline void jc(struct jw *w, char c) { w->b[w->n++] = c; }

static inline void js(struct jw *w, const char *s)
{
	while (*s)
		w->b[w->n++] = *s++;
}

/* A string literal: one memcpy of a length known at compile time. */
#define JSL(w, lit)                                                            \
	do {                                                                   \
		memcpy((w)->b + (w)->n, (lit), sizeof(lit) - 1);               \
		(w)->n += sizeof(lit) - 1;                                     \
	} while (0)

static void ju(struct jw *w, uint64_t v)
{
	char t[24];
	int i = 0;
	do {
		t[i++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (i)
		w->b[w->n++] = t[--i];
}

static void ji(struct jw *w, int64_t v)
{
	if (v < 0) {
		jc(w, '-');
		v = -v;
	}
	ju(w, (uint64_t)v);
}

/* microseconds with 3 decimals, from ns */
static void jus(struct jw *w, int64_t ns)
{
	if (ns < 0)
		ns = 0;
	ju(w, (uint64_t)ns / 1000);
	unsigned f = (unsigned)(ns % 1000);
	jc(w, '.');
	jc(w, (char)('0' + f / 100));
	jc(w, (char)('0' + f / 10 % 10));
	jc(w, (char)('0' + f % 10));
}

/* JSON-safe copy of a thread name (printable ASCII, no quote/backslash). */
static void safe_name(char *d, const char *s)
{
	int i = 0;
	for (; s[i] && i < 15; i++) {
		char c = s[i];
		d[i] = (c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' ||
			c == '>' || c == '&') ? '_' : c;
	}
	d[i] = 0;
}

static const char *endname(uint32_t t)
{
	switch (t) {
	case TR_BLOCK: return "block";
	case TR_YIELD: return "yield";
	case TR_PREEMPT: return "preempt";
	default: return "exit";
	}
}

/* ",\n{"ph":"<ph>",...,"ts":T[,"dur":D],"pid":1,"tid":L,"args":{" */
static void head(struct jw *w, const char *ph, const char *cat,
		 const char *name, const struct trev *e, int lane, bool dur)
{
	JSL(w, ",\n{\"ph\":\"");
	js(w, ph);
	if (ph[0] == 'i')
		JSL(w, "\",\"s\":\"t");
	JSL(w, "\",\"cat\":\"");
	js(w, cat);
	JSL(w, "\",\"name\":\"");
	js(w, name);
	JSL(w, "\",\"ts\":");
	jus(w, tsc_ns(e->ts) - trace_t0);
	if (dur) {
		JSL(w, ",\"dur\":");
		jus(w, tsc_ns(e->ts + e->dur) - tsc_ns(e->ts));
	}
	JSL(w, ",\"pid\":1,\"tid\":");
	ji(w, lane);
	JSL(w, ",\"args\":{");
}

/* Append one event as JSON (at most ~400 bytes). */
static void fmt_ev(struct jw *w, const struct trev *e)
{
	switch (e->type) {
	case TR_BLOCK: case TR_YIELD: case TR_PREEMPT: case TR_END: {
		char nm[40];
		struct jw t = {nm, 0};
		jc(&t, 'G');
		ju(&t, e->g);
		jc(&t, ' ');
		js(&t, e->name);
		jc(&t, 0);
		head(w, "X", "run", nm, e, e->lane, true);
		JSL(w, "\"g\":");
		ju(w, e->g);
		JSL(w, ",\"m\":");
		ji(w, e->m);
		JSL(w, ",\"end\":\"");
		js(w, endname(e->type));
		JSL(w, "\",\"reason\":\"");
		if (e->type == TR_BLOCK)
			js(w, rt_waitreason_name((int)e->arg));
		JSL(w, "\"}}");
		return;
	}
	case TR_SYSRET:
		head(w, "X", "syscall", "syscall", e, 1000 + e->m, true);
		JSL(w, "\"g\":");
		ju(w, e->g);
		break;
	case TR_POLL:
		head(w, "X", "netpoll", "netpoll", e, 1000 + e->m, true);
		JSL(w, "\"ready\":");
		ju(w, e->arg);
		break;
	case TR_HANDOFF:
		head(w, "i", "sched", "handoff", e, 999, false);
		JSL(w, "\"p\":");
		ju(w, e->arg);
		break;
	case TR_CREATE:
		head(w, "i", "sched", "create", e, e->lane, false);
		JSL(w, "\"g\":");
		ju(w, e->g);
		JSL(w, ",\"parent\":");
		ju(w, e->arg);
		break;
	case TR_UNBLOCK:
		head(w, "i", "sched", "unblock", e, e->lane, false);
		JSL(w, "\"g\":");
		ju(w, e->g);
		JSL(w, ",\"by\":");
		ju(w, e->arg);
		break;
	case TR_STACKGC:
		head(w, "i", "sched", "stackgc", e, e->lane, false);
		JSL(w, "\"bytes\":");
		ju(w, e->arg);
		break;
	default:
		return;
	}
	JSL(w, "}}");
}

/* Format and write b's events; b->lock held. */
static void flush_locked(struct rt_tracebuf *b, uint32_t n)
{
	static char out[1 << 17]; /* under trace_lock */
	rt_lock(&trace_lock);
	/* a fork child shares the file: only the traced process writes */
	if (!finished && rt_syscall0(SYS_getpid) == trace_pid) {
		tsc_calibrate();
		struct jw w = {out, 0};
		for (uint32_t i = 0; i < n; i++) {
			if (w.n + 600 > sizeof out) {
				wr(out, w.n);
				w.n = 0;
			}
			fmt_ev(&w, &b->ev[i]);
		}
		wr(out, w.n);
	}
	rt_unlock(&trace_lock);
}

static struct rt_tracebuf *rawbuf(void)
{
	long a = rt_syscall6(SYS_mmap, 0, (long)sizeof(struct rt_tracebuf),
			     PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			     -1, 0);
	return a < 0 && a > -4096 ? NULL : (struct rt_tracebuf *)a;
}

/*
 * The writer thread.  A full buffer is handed to it (queue, futex wake)
 * and its M goes on with a spare one, so formatting and write(2) happen on
 * another CPU when there is one.  At most MAXQ buffers wait; beyond that
 * (a writer that cannot keep up) the M formats its buffer itself, which
 * bounds memory and slows the program instead of losing events.
 * rt_trace_finish stops the writer (after it drained the queue) before it
 * writes the partial buffers and the closing bracket.
 */
#define MAXQ 8

static rt_mutex qlock;              /* guards qhead/qtail/nq/pool */
static struct rt_tracebuf *qhead, *qtail, *pool;
static int nq;
static uint32_t qseq;               /* atomic futex word: work or stop */
static uint32_t wstop, wdone;       /* atomic */
static uint8_t have_writer;         /* set once at init */
static uint8_t closing;             /* atomic: finish in progress */

static struct rt_tracebuf *take_spare(void)
{
	rt_lock(&qlock);
	if (nq >= MAXQ) {
		rt_unlock(&qlock);
		return NULL;
	}
	struct rt_tracebuf *f = pool;
	if (f)
		pool = f->next;
	rt_unlock(&qlock);
	return f ? f : rawbuf();
}

static void enqueue(struct rt_tracebuf *b)
{
	b->next = NULL;
	rt_lock(&qlock);
	if (qtail)
		qtail->next = b;
	else
		qhead = b;
	qtail = b;
	nq++;
	rt_unlock(&qlock);
	rt_xadd(&qseq, 1u);
	rt_futex_wake_os(&qseq, 1);
}

static void *writer(void *arg)
{
	uint64_t all = ~0ull & ~((1ull << (SIGSEGV - 1)) | (1ull << (SIGBUS - 1)));
	rt_syscall4(SYS_rt_sigprocmask, SIG_SETMASK, &all, NULL, 8);
	for (;;) {
		uint32_t seq = rt_load(&qseq);
		rt_lock(&qlock);
		struct rt_tracebuf *b = qhead;
		if (b) {
			qhead = b->next;
			if (!qhead)
				qtail = NULL;
			nq--;
		}
		rt_unlock(&qlock);
		if (!b) {
			if (rt_load(&wstop))
				break;
			rt_futex_wait_os(&qseq, seq, -1);
			continue;
		}
		flush_locked(b, TRACE_BUF);
		rt_store_rel(&b->n, 0u);
		rt_lock(&qlock);
		b->next = pool;
		pool = b;
		rt_unlock(&qlock);
	}
	rt_store(&wdone, 1u);
	rt_futex_wake_os(&wdone, 1);
	return NULL;
}

static struct rt_tracebuf *newbuf(int lane, const char *name)
{
	if (rt_syscall0(SYS_getpid) != trace_pid) { /* a fork child */
		rt_store(&finished, true);
		return NULL;
	}
	long a = (long)rawbuf();
	if (!a)
		return NULL;
	char meta[256];
	int k = rt_snprintf(meta, sizeof meta,
			    ",\n{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":1,"
			    "\"tid\":%d,\"args\":{\"name\":\"%s\"}}"
			    ",\n{\"ph\":\"M\",\"name\":\"thread_sort_index\","
			    "\"pid\":1,\"tid\":%d,\"args\":{\"sort_index\":%d}}",
			    lane, name, lane, lane);
	rt_lock(&trace_lock);
	if (!finished)
		wr(meta, (size_t)k);
	rt_unlock(&trace_lock);
	return (struct rt_tracebuf *)a;
}

/* Append to *slot (the M's buffer, or sysmon's); a full buffer goes to
 * the writer and *slot gets a spare, or is written here. */
static void append(struct rt_tracebuf **slot, const struct trev *e)
{
	struct rt_tracebuf *b = *slot;
	uint32_t n = b->n;
	b->ev[n] = *e;
	rt_store_rel(&b->n, n + 1); /* pairs with rt_trace_finish */
	if (n + 1 < TRACE_BUF)
		return;
	/* a fork child: drop, and never touch locks another thread of the
	 * parent may have held at the fork */
	if (rt_syscall0(SYS_getpid) != trace_pid) {
		rt_store(&finished, true);
		return;
	}
	rt_lock(&b->lock);
	if (rt_load(&finished)) { /* too late: keep it, drop what follows */
		rt_unlock(&b->lock);
		return;
	}
	struct rt_tracebuf *f = have_writer && !rt_load(&closing) ? take_spare()
								  : NULL;
	if (f) {
		rt_store(slot, f);
		b->busy = 0; /* the writer's now: rt_trace must not touch it */
		rt_unlock(&b->lock);
		enqueue(b);
		return;
	}
	flush_locked(b, TRACE_BUF);
	rt_store_rel(&b->n, 0u);
	rt_unlock(&b->lock);
}

void rt_trace(struct rt_m *m, int ev, struct rt_g *g, uint64_t arg)
{
	if (!m || rt_load_relaxed(&finished))
		return;
	struct rt_tracebuf *b = m->tb;
	if (!b) {
		char nm[16];
		rt_snprintf(nm, sizeof nm, "M%d", m->id);
		b = m->tb = newbuf(1000 + m->id, nm);
		if (!b)
			return;
	}
	if (b->busy)
		return;
	b->busy = 1;
	int64_t now = stamp();
	struct trev e;
	e.ts = now;
	e.dur = 0;
	e.g = g ? g->goid : 0;
	e.arg = arg;
	e.m = m->id;
	e.type = (uint32_t)ev;
	struct rt_p *p = m->p;
	e.lane = p ? p->id : 1000 + m->id;
	e.name[0] = 0;
	switch (ev) {
	case TR_START:
		m->tr_runstart = now;
		goto out;
	case TR_SYSCALL:
		m->tr_sysstart = now;
		goto out;
	case TR_SYSRET:
		if (!m->tr_sysstart)
			goto out;
		e.ts = m->tr_sysstart;
		e.dur = now - m->tr_sysstart;
		break;
	case TR_BLOCK: case TR_YIELD: case TR_PREEMPT: case TR_END:
		if (!m->tr_runstart || !g)
			goto out;
		e.ts = m->tr_runstart;
		e.dur = now - m->tr_runstart;
		safe_name(e.name, g->name);
		m->tr_runstart = 0;
		break;
	case TR_UNBLOCK: {
		struct rt_g *me = rt_getg();
		e.arg = me && !me->isg0 ? me->goid : 0;
		break;
	}
	}
	append(&m->tb, &e);
out:
	if (m->tb == b) /* else append handed b to the writer */
		b->busy = 0;
}

void rt_trace_poll(struct rt_m *m, int64_t start, int n)
{
	if (!m)
		return;
	rt_trace(m, TR_POLL, NULL, (uint64_t)n);
	/* rt_trace stamped it "now"; make it the span of the wait */
	struct rt_tracebuf *b = m->tb;
	if (b && b->n > 0 && b->ev[b->n - 1].type == TR_POLL) {
		struct trev *e = &b->ev[b->n - 1];
		e->dur = e->ts - start;
		e->ts = start;
	}
}

/* sysmon's events: it has no M; it is the only writer of sysmon_tb. */
void rt_trace_sysmon(int ev, uint64_t arg)
{
	if (rt_load_relaxed(&finished))
		return;
	if (!sysmon_tb && !(sysmon_tb = newbuf(999, "sysmon")))
		return;
	struct trev e = {.ts = stamp(), .arg = arg, .lane = 999,
			 .m = -1, .type = (uint32_t)ev};
	append(&sysmon_tb, &e);
}

static void finish_buf(struct rt_tracebuf *b)
{
	if (!b)
		return;
	rt_lock(&b->lock);
	flush_locked(b, rt_load_acq(&b->n));
	rt_unlock(&b->lock);
}

void rt_trace_finish(void)
{
	if (!rt_trace_on || rt_load(&finished) || trace_fd < 0)
		return;
	if (rt_syscall0(SYS_getpid) != trace_pid) { /* a fork child */
		rt_store(&finished, true);
		return;
	}
	/* no more hand-offs; let the writer drain its queue and stop (the
	 * events it holds are older than the Ms' partial buffers) */
	rt_store(&closing, (uint8_t)1);
	if (have_writer) {
		rt_store(&wstop, 1u);
		rt_xadd(&qseq, 1u);
		rt_futex_wake_os(&qseq, 1);
		int64_t until = rt_nanotime() + 5000000000;
		while (!rt_load(&wdone) && rt_nanotime() < until)
			rt_futex_wait_os(&wdone, 0, 100000000);
	}
	for (struct rt_m *m = rt_load(&rt_sched.allm); m; m = m->alllink)
		finish_buf(rt_load(&m->tb));
	finish_buf(sysmon_tb);
	rt_lock(&trace_lock);
	if (!finished && rt_syscall0(SYS_getpid) != trace_pid) {
		rt_store(&finished, true); /* a fork child: leave it alone */
	} else if (!finished) {
		wr("\n]\n", 3);
		rt_store(&finished, true);
		rt_syscall1(SYS_close, trace_fd);
	}
	rt_unlock(&trace_lock);
}

void rt_trace_init(const char *path)
{
	long fd = rt_syscall4(SYS_openat, AT_FDCWD, path,
			      O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		rt_printf("greenrun: GREENRUN_TRACE: cannot open %s; not "
			  "tracing\n", path);
		return;
	}
	struct rlimit rl;
	if (rt_syscall4(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, &rl) == 0 &&
	    rl.rlim_cur >= 128) {
		long base = (long)(rl.rlim_cur > 65536 ? 65536 : rl.rlim_cur) - 24;
		long nfd = rt_syscall3(SYS_fcntl, fd, F_DUPFD_CLOEXEC, base);
		if (nfd >= 0) {
			rt_syscall1(SYS_close, fd);
			fd = nfd;
		}
	}
	trace_fd = (int)fd;
	trace_pid = (int)rt_syscall0(SYS_getpid);
	trace_t0 = rt_nanotime();
	char cs[32] = "";
	long cfd = rt_syscall4(SYS_openat, AT_FDCWD,
			       "/sys/devices/system/clocksource/clocksource0/"
			       "current_clocksource", O_RDONLY | O_CLOEXEC, 0);
	if (cfd >= 0) {
		rt_syscall3(SYS_read, cfd, cs, sizeof cs - 1);
		rt_syscall1(SYS_close, cfd);
	}
	use_tsc = strncmp(cs, "tsc", 3) == 0;
	tsc0 = __builtin_ia32_rdtsc();
	ns0 = rt_nanotime();
	if (use_tsc) { /* a first rate, refined at every flush */
		struct timespec d = {0, 2000000};
		rt_syscall2(SYS_nanosleep, &d, NULL);
		tsc_calibrate();
	}
	char b[512];
	int k = rt_snprintf(b, sizeof b,
			    "[\n{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":1,"
			    "\"args\":{\"name\":\"greenrun pid %d\"}}",
			    (int)rt_syscall0(SYS_getpid));
	wr(b, (size_t)k);
	for (int i = 0; i < rt_sched.nprocs; i++) {
		k = rt_snprintf(b, sizeof b,
				",\n{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":1,"
				"\"tid\":%d,\"args\":{\"name\":\"P%d\"}}"
				",\n{\"ph\":\"M\",\"name\":\"thread_sort_index\","
				"\"pid\":1,\"tid\":%d,\"args\":{\"sort_index\":%d}}",
				i, i, i, i);
		wr(b, (size_t)k);
	}
	rt_trace_on = 1;
	if (rt_os.thread_create(writer, NULL, 64 * 1024 + rt_tls.static_size) == 0)
		have_writer = 1;
}
