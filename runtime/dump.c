/*
 * dump.c - thread dumps: every G, its state, wait reason and stack.
 *
 * What a dump shows.  One entry per group of Gs with the same state, wait
 * reason and stack (the program counters after unwinding), largest group
 * first:
 *
 *   100 threads (ids 5..104, "waiter"): cond, waiting 0.099..0.103 s
 *       cond_wait+0x57 (libgreenrun.so)
 *       waiter_main+0x3b (diag_deadlock)
 *
 * A group of one names its thread: `thread 3 "locker-a": mutex 0x... held
 * by thread 4, waiting 2.001 s`.  100,000 threads parked in the same
 * place print as one entry.  As Go's SIGQUIT traceback (traceback.go), with
 * grouping as in Go's pprof goroutine?debug=1.
 *
 * How stacks are read: traceback.c (libunwind from the context the
 * switch saved; known call chains; names from each object's .symtab).
 *
 * Racing the Gs.  The dump takes no runtime lock (it runs in fatal errors,
 * with locks held, and beside a live server).  Gs are found by walking the
 * stack-slot chunks (stack.c, append-only) and checking RT_G_MAGIC; a G
 * may start running while we unwind it.  So: the status and saved stack
 * pointer are read before and after unwinding, and a stack that changed
 * is dropped ("stack changed while reading"); a fault while reading a
 * stack that was being reused is caught by rt_dump_fault (called from
 * the SIGSEGV handler), which longjmps back here.  A running G's stack
 * is taken by its own M in greenrun's SIGURG handler when that is safe
 * (traceback.c); the dumping thread unwinds itself.
 *
 * Memory: one mmap'ed arena per dump (records, a hash table of distinct
 * stacks, a symbol cache), never malloc: a fatal error may come from a
 * corrupted heap.  A dump runs on sysmon (requests, deadlocks) or on the
 * failing thread (rt_throw); on sysmon, which has no G, we install a
 * stand-in g0 for the duration so that libc calls libunwind makes through
 * our interposed names (read, close) go straight to the kernel.
 *
 * Trigger for `greenrun dump PID`: SIGURG sent with sigqueue() carrying
 * RT_DUMP_MAGIC (preempt.c tells it apart from our own preemption
 * tgkill, which has no payload).  SIGURG is already greenrun's; the
 * program's own signals are untouched.  The requester listens on the
 * abstract unix socket "greenrun-dump.<its pid>"; we connect and write
 * the dump there (stderr when that fails).
 *
 * Rejected: stopping the world for a dump (the server must keep serving,
 * and a fatal error may have stopped the scheduler); hand-rolled frame
 * pointer walking (programs built without frame pointers are common);
 * a socket listening in every process (an fd the program can see and
 * close, and a thread per process).
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>

#include "atomic.h"
#include "diag.h"
#include "internal.h"
#include "rt_netpoll.h"
#include "sys.h"

#define DUMP_FRAMES RT_TB_FRAMES /* frames kept per stack */
#define DUMP_MAXSTACKS 65536 /* distinct stacks kept; more show no stack */
#define SYMCACHE 4096       /* distinct program counters symbolised */

int (*rt_waitdesc)(int why, void *addr, char *buf, size_t len);

/* ---- output ---------------------------------------------------------- */

struct out {
	int fd;
	size_t n;
	char b[16384];
};

static void out_flush(struct out *o)
{
	size_t off = 0;
	while (off < o->n) {
		long r = rt_syscall3(SYS_write, o->fd, o->b + off, o->n - off);
		if (r == -EINTR || r == -EAGAIN)
			continue;
		if (r <= 0)
			break;
		off += (size_t)r;
	}
	o->n = 0;
}

static void out_str(struct out *o, const char *s)
{
	for (; *s; s++) {
		if (o->n == sizeof o->b)
			out_flush(o);
		o->b[o->n++] = *s;
	}
}

#define OUTF(o, ...)                                                           \
	do {                                                                   \
		char l_[512];                                                  \
		rt_snprintf(l_, sizeof l_, __VA_ARGS__);                       \
		out_str((o), l_);                                              \
	} while (0)

/* ---- records ----------------------------------------------------------- */

enum { CL_RUNNING, CL_SYSCALL, CL_RUNNABLE, CL_WAITING, CL_DEAD };

struct grec {
	uint64_t goid;
	int64_t since;     /* waitsince (rt_coarsetime), 0 unknown */
	void *waitaddr;
	int32_t waitfd;
	int32_t mid;       /* M running it, -1 */
	int32_t stackid;   /* index in stacks, -1: none */
	uint8_t cls;
	uint8_t why;
	uint8_t modes;
	uint8_t flags;     /* F_* */
	char name[16];
};
enum { F_MAIN = 1, F_SELF = 2, F_CHANGED = 4, F_FAULT = RT_TB_FAULT,
       F_NEW = RT_TB_NEW, F_KERNEL = 32 };

struct stk {
	uint64_t hash;
	int32_t n;
	uintptr_t ip[DUMP_FRAMES];
};

struct sym {
	uintptr_t ip;
	struct rt_sym s;
};

struct arena {
	struct grec *g;
	size_t ng, capg;
	struct stk *s;
	size_t ns;
	int32_t *stab;      /* hash table of stacks: index or -1 */
	size_t stabcap;     /* power of 2 */
	struct sym *syms;
	size_t mapbytes;
	void *map;
};

static void *rawmap(size_t n)
{
	long a = rt_syscall6(SYS_mmap, 0, (long)n, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	return a < 0 && a > -4096 ? NULL : (void *)a;
}

static void count_g(struct rt_g *g, void *arg) { (*(size_t *)arg)++; }

static bool arena_init(struct arena *a, size_t ng)
{
	memset(a, 0, sizeof *a);
	a->capg = ng + 256;
	size_t maxs = a->capg < DUMP_MAXSTACKS ? a->capg : DUMP_MAXSTACKS;
	a->stabcap = 1;
	while (a->stabcap < 2 * maxs)
		a->stabcap <<= 1;
	size_t bytes = a->capg * sizeof(struct grec) + maxs * sizeof(struct stk) +
		       a->stabcap * sizeof(int32_t) +
		       SYMCACHE * sizeof(struct sym) + 4096;
	char *p = rawmap(bytes);
	if (!p)
		return false;
	a->map = p;
	a->mapbytes = bytes;
	a->g = (struct grec *)p;
	p += a->capg * sizeof(struct grec);
	a->s = (struct stk *)p;
	p += maxs * sizeof(struct stk);
	a->stab = (int32_t *)p;
	memset(a->stab, 0xff, a->stabcap * sizeof(int32_t));
	p += a->stabcap * sizeof(int32_t);
	a->syms = (struct sym *)p;
	return true;
}

/* Intern a stack; returns its index or -1 (table full). */
static int32_t stack_intern(struct arena *a, const uintptr_t *ip, int n)
{
	uint64_t h = 1469598103934665603ull ^ (uint64_t)n;
	for (int i = 0; i < n; i++)
		h = (h ^ ip[i]) * 1099511628211ull;
	size_t mask = a->stabcap - 1;
	for (size_t i = h & mask;; i = (i + 1) & mask) {
		int32_t k = a->stab[i];
		if (k < 0) {
			size_t maxs = a->stabcap / 2;
			if (a->ns >= maxs)
				return -1;
			struct stk *s = &a->s[a->ns];
			s->hash = h;
			s->n = n;
			memcpy(s->ip, ip, (size_t)n * sizeof *ip);
			a->stab[i] = (int32_t)a->ns;
			return (int32_t)a->ns++;
		}
		struct stk *s = &a->s[k];
		if (s->hash == h && s->n == n &&
		    memcmp(s->ip, ip, (size_t)n * sizeof *ip) == 0)
			return k;
	}
}

/* ---- collecting ---------------------------------------------------------- */

struct collect {
	struct arena *a;
	struct rt_g *self;
	int skip_self;
	bool only_blocked; /* exit report: waiting Gs only */
};

static void collect_g(struct rt_g *g, void *arg)
{
	struct collect *cc = arg;
	struct arena *a = cc->a;
	if (a->ng == a->capg || g->isg0)
		return;
	struct grec *r = &a->g[a->ng];
	memset(r, 0, sizeof *r);
	uint32_t st = rt_load(&g->status);
	uint64_t rsp = rt_load(&g->ctx.rsp);
	r->goid = g->goid;
	r->why = rt_load_relaxed(&g->waitreason);
	r->waitaddr = g->waitaddr;
	r->waitfd = g->waitfd;
	r->modes = g->waitmodes;
	r->since = g->waitsince;
	r->mid = -1;
	r->stackid = -1;
	memcpy(r->name, g->name, sizeof r->name);
	r->name[15] = 0;
	if (g->ismain)
		r->flags |= F_MAIN;
	struct rt_m *m = rt_load_relaxed(&g->m);
	switch (st) {
	case G_RUNNING:
		r->cls = m && rt_load_relaxed(&m->oldp) ? CL_SYSCALL : CL_RUNNING;
		r->mid = m ? m->id : -1;
		break;
	case G_RUNNABLE: r->cls = CL_RUNNABLE; break;
	case G_WAITING: r->cls = CL_WAITING; break;
	case G_DEAD: r->cls = CL_DEAD; break;
	default: return; /* G_IDLE: a slot being set up */
	}
	if (cc->only_blocked && r->cls != CL_WAITING)
		return;
	uintptr_t ips[DUMP_FRAMES];
	int n = 0;
	if (g == cc->self) {
		r->flags |= F_SELF;
		n = rt_traceback_self(ips, cc->skip_self + 2, &r->flags);
	} else if (r->cls == CL_RUNNING && m) {
		n = rt_traceback_running(m, g, ips);
		if (n < 0) {
			r->flags |= F_KERNEL;
			n = 0;
		} else if (rt_load(&g->status) != st || rt_load_relaxed(&g->m) != m) {
			r->flags |= F_CHANGED;
			n = 0;
		}
	} else if (r->cls == CL_WAITING || r->cls == CL_RUNNABLE) {
		n = rt_traceback_saved(g, rsp, ips, &r->flags);
		if (rt_load(&g->status) != st || rt_load(&g->ctx.rsp) != rsp) {
			r->flags |= F_CHANGED;
			n = 0;
		}
	}
	bool full = n == DUMP_FRAMES;
	n = rt_traceback_trim(ips, n);
	if (full && n < DUMP_FRAMES)
		ips[n++] = 0; /* marks a cut stack ("...") */
	if (n > 0)
		r->stackid = stack_intern(a, ips, n);
	a->ng++;
}

/* ---- symbols (cached per dump) ----------------------------------------- */

static struct sym *symbolize(struct arena *a, uintptr_t ip)
{
	size_t i = (ip * 0x9e3779b97f4a7c15ull >> 40) % SYMCACHE;
	struct sym *s = &a->syms[i];
	if (s->ip != ip) {
		s->ip = ip;
		rt_symbolize(ip, &s->s);
	}
	return s;
}

static void print_stack(struct out *o, struct arena *a, const struct stk *s)
{
	for (int i = 0; i < s->n; i++) {
		if (!s->ip[i]) {
			out_str(o, "    ...\n");
			break;
		}
		const struct rt_sym *y = &symbolize(a, s->ip[i])->s;
		if (y->name[0])
			OUTF(o, "    %s+0x%lx (%s)\n", y->name,
			     (unsigned long)y->off, y->obj[0] ? y->obj : "?");
		else
			OUTF(o, "    0x%lx (%s+0x%lx)\n", (unsigned long)s->ip[i],
			     y->obj[0] ? y->obj : "?", (unsigned long)y->off);
	}
}

/* ---- grouping ------------------------------------------------------------ */

static int cmp_rec(const struct grec *x, const struct grec *y)
{
	if (x->cls != y->cls)
		return x->cls < y->cls ? -1 : 1;
	uint8_t wx = x->cls == CL_WAITING ? x->why : 0;
	uint8_t wy = y->cls == CL_WAITING ? y->why : 0;
	if (wx != wy)
		return wx < wy ? -1 : 1;
	if (x->stackid != y->stackid)
		return x->stackid < y->stackid ? -1 : 1;
	if ((x->flags ^ y->flags) & (F_NEW | F_CHANGED | F_KERNEL))
		return (x->flags & (F_NEW | F_CHANGED | F_KERNEL)) <
		       (y->flags & (F_NEW | F_CHANGED | F_KERNEL)) ? -1 : 1;
	return x->goid < y->goid ? -1 : x->goid > y->goid;
}

static bool same_group(const struct grec *x, const struct grec *y)
{
	return x->cls == y->cls && x->stackid == y->stackid &&
	       (x->cls != CL_WAITING || x->why == y->why) &&
	       !((x->flags ^ y->flags) & (F_NEW | F_CHANGED | F_KERNEL)) &&
	       !((x->flags | y->flags) & (F_SELF | F_MAIN));
}

/* In-place heapsort (no malloc, no recursion). */
#define HEAPSORT(T, arr, n, less)                                              \
	do {                                                                   \
		for (size_t hs_i = (n) / 2; hs_i-- > 0;)                       \
			HS_SIFT(T, arr, hs_i, (n), less);                      \
		for (size_t hs_e = (n); hs_e-- > 1;) {                         \
			T hs_t = (arr)[0];                                     \
			(arr)[0] = (arr)[hs_e];                                \
			(arr)[hs_e] = hs_t;                                    \
			HS_SIFT(T, arr, 0, hs_e, less);                        \
		}                                                              \
	} while (0)
#define HS_SIFT(T, arr, start, end, less)                                      \
	do {                                                                   \
		size_t r_ = (start);                                           \
		for (;;) {                                                     \
			size_t c_ = 2 * r_ + 1;                                \
			if (c_ >= (end))                                       \
				break;                                         \
			if (c_ + 1 < (end) && less(&(arr)[c_], &(arr)[c_ + 1]))\
				c_++;                                          \
			if (!less(&(arr)[r_], &(arr)[c_]))                     \
				break;                                         \
			T t_ = (arr)[r_];                                      \
			(arr)[r_] = (arr)[c_];                                 \
			(arr)[c_] = t_;                                        \
			r_ = c_;                                               \
		}                                                              \
	} while (0)

static bool rec_less(const struct grec *x, const struct grec *y)
{
	return cmp_rec(x, y) < 0;
}

struct group {
	size_t first, count;
};

static const struct grec *grp_recs;
static bool grp_less(const struct group *x, const struct group *y)
{
	/* main first, then larger groups, then lower ids: "less" sorts
	 * later, so invert */
	bool mx = grp_recs[x->first].flags & F_MAIN;
	bool my = grp_recs[y->first].flags & F_MAIN;
	if (mx != my)
		return my;
	if (x->count != y->count)
		return x->count < y->count;
	return grp_recs[x->first].goid > grp_recs[y->first].goid;
}

/* ---- printing ------------------------------------------------------------ */

const char *rt_waitreason_name(int why)
{
	switch (why) {
	case WAIT_SLEEP: return "sleep";
	case WAIT_JOIN: return "join";
	case WAIT_ONCE: return "once";
	case WAIT_FUTEX: return "futex";
	case WAIT_YIELD: return "yield";
	case WAIT_IO: return "IO wait";
	case WAIT_SYNC: return "sync";
	case WAIT_MUTEX: return "mutex";
	case WAIT_COND: return "cond";
	case WAIT_RWLOCK: return "rwlock";
	case WAIT_BARRIER: return "barrier";
	case WAIT_SEM: return "semaphore";
	case WAIT_SIGNAL: return "signal wait";
	default: return "wait";
	}
}

static void fmt_secs(char *b, size_t n, int64_t ns)
{
	if (ns < 0)
		ns = 0;
	rt_snprintf(b, n, "%ld.%ld%ld%ld", (long)(ns / 1000000000),
		    (long)(ns / 100000000 % 10), (long)(ns / 10000000 % 10),
		    (long)(ns / 1000000 % 10));
}

/* The state of one record: "mutex 0x... held by thread 4". */
static void describe(char *b, size_t n, const struct grec *r, bool detail)
{
	switch (r->cls) {
	case CL_RUNNING:
		if (detail)
			rt_snprintf(b, n, "running on M%d", r->mid);
		else
			rt_snprintf(b, n, "running");
		return;
	case CL_SYSCALL:
		if (detail)
			rt_snprintf(b, n, "in a system call on M%d", r->mid);
		else
			rt_snprintf(b, n, "in a system call");
		return;
	case CL_RUNNABLE:
		rt_snprintf(b, n, "runnable");
		return;
	case CL_DEAD:
		rt_snprintf(b, n, "exited, not joined");
		return;
	}
	const char *w = rt_waitreason_name(r->why);
	if (!detail) {
		rt_snprintf(b, n, "%s", w);
		return;
	}
	if (r->why == WAIT_IO && r->waitfd >= 0)
		rt_snprintf(b, n, "IO wait fd %d %s", r->waitfd,
			    r->modes == RT_POLL_R ? "read"
			    : r->modes == RT_POLL_W ? "write" : "read+write");
	else if (r->why == WAIT_IO)
		rt_snprintf(b, n, "IO wait on %d fds", -r->waitfd);
	else if (r->why >= WAIT_MUTEX || r->why == WAIT_FUTEX || r->why == WAIT_ONCE) {
		int k = rt_snprintf(b, n, "%s %p", w, r->waitaddr);
		if (rt_waitdesc && r->waitaddr && (size_t)k + 2 < n)
			rt_waitdesc(r->why, r->waitaddr, b + k, n - (size_t)k);
	} else
		rt_snprintf(b, n, "%s", w);
}

static void print_group(struct out *o, struct arena *a, const struct group *gp,
			int64_t now)
{
	const struct grec *r = &a->g[gp->first];
	char st[160], t1[32], t2[32];
	describe(st, sizeof st, r, gp->count == 1);
	int64_t lo = INT64_MAX, hi = 0;
	for (size_t i = 0; i < gp->count; i++) {
		int64_t s = a->g[gp->first + i].since;
		if (!s || r->cls != CL_WAITING)
			continue;
		if (now - s < lo)
			lo = now - s;
		if (now - s > hi)
			hi = now - s;
	}
	char wait[80] = "";
	if (hi > 0) {
		fmt_secs(t1, sizeof t1, lo);
		fmt_secs(t2, sizeof t2, hi);
		if (gp->count == 1 || lo / 1000000 == hi / 1000000)
			rt_snprintf(wait, sizeof wait, ", waiting %s s", t2);
		else
			rt_snprintf(wait, sizeof wait, ", waiting %s..%s s", t1, t2);
	}
	if (gp->count == 1) {
		OUTF(o, "thread %lu \"%s\"%s: %s%s\n", (unsigned long)r->goid,
		     r->name, r->flags & F_MAIN ? " (main)" : "", st, wait);
	} else {
		/* ids: a range when contiguous, else the first few */
		uint64_t first = r->goid, last = a->g[gp->first + gp->count - 1].goid;
		char ids[128];
		if (last - first + 1 == gp->count)
			rt_snprintf(ids, sizeof ids, "ids %lu..%lu",
				    (unsigned long)first, (unsigned long)last);
		else {
			int k = rt_snprintf(ids, sizeof ids, "ids");
			for (size_t i = 0; i < gp->count && i < 6; i++)
				k += rt_snprintf(ids + k, sizeof ids - (size_t)k, " %lu",
						 (unsigned long)a->g[gp->first + i].goid);
			if (gp->count > 6)
				rt_snprintf(ids + k, sizeof ids - (size_t)k, " ...");
		}
		bool samename = true;
		for (size_t i = 1; i < gp->count && samename; i++)
			samename = strcmp(a->g[gp->first + i].name, r->name) == 0;
		OUTF(o, "%lu threads (%s%s%s%s): %s%s\n", (unsigned long)gp->count,
		     ids, samename ? ", \"" : "", samename ? r->name : "",
		     samename ? "\"" : "", st, wait);
	}
	if (r->stackid >= 0)
		print_stack(o, a, &a->s[r->stackid]);
	else if (r->flags & F_CHANGED)
		out_str(o, "    (stack changed while it was read)\n");
	else if (r->flags & F_NEW)
		out_str(o, "    (not started yet)\n");
	else if (r->flags & F_KERNEL)
		out_str(o, "    (asleep in the kernel: stack not captured)\n");
	else if (r->cls == CL_RUNNING || r->cls == CL_SYSCALL)
		out_str(o, "    (stack not captured)\n");
	else if (r->cls != CL_DEAD)
		out_str(o, "    (no stack)\n");
	out_str(o, "\n");
}

static const char *title(enum rt_dump_why why)
{
	switch (why) {
	case DUMP_REQUEST: return "thread dump (greenrun dump)";
	case DUMP_SIGQUIT: return "thread dump (SIGQUIT)";
	case DUMP_DEADLOCK: return "all threads are blocked";
	case DUMP_FATAL: return "thread dump (fatal error)";
	case DUMP_EXIT: return "threads still blocked at exit";
	}
	return "thread dump";
}

/* ---- the dump ------------------------------------------------------------ */

static uint32_t dumplock;     /* atomic: a dump is in progress */
static pid_t dumper;          /* its thread id (recursion guard) */
static pid_t dumper_pid;      /* its process: a fork child whose parent
				 was dumping inherits a held lock */
static struct rt_g standin;   /* g0 stand-in for sysmon (see header) */

void rt_dump(int fd, enum rt_dump_why why, const char *detail)
{
	pid_t me = (pid_t)rt_syscall0(SYS_gettid);
	if (rt_load(&dumper) == me)
		return; /* a fatal error inside the dump itself */
	pid_t pid = (pid_t)rt_syscall0(SYS_getpid);
	while (rt_xchg(&dumplock, 1u)) {
		if (rt_load(&dumper_pid) != pid && rt_load(&dumper_pid) != 0)
			break; /* held by our parent at fork: not ours to wait for */
		rt_syscall0(SYS_sched_yield);
	}
	rt_store(&dumper_pid, pid);
	rt_store(&dumper, me);
	bool swapped = false;
	if (!rt_getg()) {
		standin.isg0 = true;
		standin.status = G_RUNNING;
		rt_curg_tls = &standin;
		swapped = true;
	}

	static struct out o;
	o.fd = fd;
	o.n = 0;
	size_t ng = 0;
	rt_foreach_g(count_g, &ng);
	struct arena a;
	int64_t now = rt_nanotime();
	if (!arena_init(&a, ng)) {
		OUTF(&o, "greenrun: %s: no memory for a dump\n", title(why));
		goto done;
	}
	struct collect cc = {&a, swapped ? NULL : rt_getg(), 1,
			     why == DUMP_EXIT};
	int64_t t_start = rt_nanotime();
	rt_foreach_g(collect_g, &cc);
	int64_t t_collect = rt_nanotime();

	HEAPSORT(struct grec, a.g, a.ng, rec_less);
	/* groups, reusing the unused tail of the stack table as storage */
	struct group *gs = rawmap((a.ng + 1) * sizeof *gs);
	size_t ngr = 0;
	for (size_t i = 0; gs && i < a.ng; i++) {
		if (ngr && same_group(&a.g[gs[ngr - 1].first], &a.g[i]))
			gs[ngr - 1].count++;
		else
			gs[ngr++] = (struct group){i, 1};
	}
	grp_recs = a.g;
	if (gs)
		HEAPSORT(struct group, gs, ngr, grp_less);
	/* heapsort with "less" = sorts later gives the order we want
	 * reversed: print from the end */
	int nm = 0;
	for (struct rt_m *m = rt_load(&rt_sched.allm); m; m = m->alllink)
		nm++;
	OUTF(&o, "\ngreenrun: %s%s%s\n", title(why), detail ? ": " : "",
	     detail ? detail : "");
	OUTF(&o, "greenrun: pid %d, %lu threads (%lu groups), %d Ps, %d Ms\n\n",
	     (int)rt_syscall0(SYS_getpid), (unsigned long)a.ng,
	     (unsigned long)ngr, (int)rt_sched.nprocs, nm);
	for (size_t i = ngr; gs && i-- > 0;)
		print_group(&o, &a, &gs[i], now);
	{
		int64_t t_end = rt_nanotime();
		char t1[32], t2[32];
		fmt_secs(t1, sizeof t1, t_collect - t_start);
		fmt_secs(t2, sizeof t2, t_end - t_start);
		OUTF(&o, "greenrun: end of %s (stacks read in %s s, "
		     "dump %s s)\n", title(why), t1, t2);
	}
	if (gs)
		rt_syscall2(SYS_munmap, gs, (a.ng + 1) * sizeof *gs);
	rt_syscall2(SYS_munmap, a.map, a.mapbytes);
done:
	out_flush(&o);
	if (swapped)
		rt_curg_tls = NULL;
	rt_store(&dumper, (pid_t)0);
	rt_store(&dumper_pid, (pid_t)0);
	rt_store(&dumplock, 0u);
}

/* ---- requests ------------------------------------------------------------ */

static int32_t req_pid = -1;      /* atomic: pending request (0: stderr) */
static uint32_t req_why;          /* atomic */

void rt_dump_request(pid_t requester, enum rt_dump_why why)
{
	rt_store(&req_why, (uint32_t)why);
	rt_store(&req_pid, (int32_t)requester);
}

/* Connect to the requester's abstract socket; -1 when it is gone. */
static int connect_requester(pid_t pid)
{
	struct sockaddr_un sa;
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	int k = rt_snprintf(sa.sun_path + 1, sizeof sa.sun_path - 1,
			    "greenrun-dump.%d", (int)pid);
	long fd = rt_syscall3(SYS_socket, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (rt_syscall3(SYS_connect, fd, &sa,
			offsetof(struct sockaddr_un, sun_path) + 1 + k) < 0) {
		rt_syscall1(SYS_close, fd);
		return -1;
	}
	return (int)fd;
}

/* sysmon: serve a pending request.  Returns the kind served, or -1. */
int rt_dump_serve(void)
{
	int32_t pid = rt_load(&req_pid);
	if (pid < 0)
		return -1;
	rt_store(&req_pid, -1);
	int why = (int)rt_load(&req_why);
	int fd = pid > 0 ? connect_requester(pid) : -1;
	rt_dump(fd >= 0 ? fd : 2, (enum rt_dump_why)why, NULL);
	if (fd >= 0)
		rt_syscall1(SYS_close, fd);
	return why;
}
