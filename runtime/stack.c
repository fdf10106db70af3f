/*
 * stack.c - stack slots: pooled, lazily committed, reused LIFO.
 *
 * Model.  A slot is one G's whole memory: an optional PROT_NONE guard at
 * the bottom, the usable stack, and at the top the TLS block, TCB and the
 * struct rt_g (tls.c has the layout).  Slots of one size class are carved
 * from large MAP_NORESERVE | MADV_NOHUGEPAGE reservations ("chunks") so a
 * million threads cost ~1,000 VMAs, not a million (vm.max_map_count is
 * 65,530 here).  Memory is committed by the kernel on first touch: an idle
 * G touches about two pages.  DESIGN.md section 4.
 *
 * Reuse.  Freed slots go on their class's LIFO free array, so the next
 * spawn gets the hottest slot (resident pages, warm TLS; create+first-run
 * ~0.7 us instead of ~4 us).  A slot that ran deep (lowest sp seen at a
 * switch more than RT_DEEP_BYTES below the top) has its deep pages given
 * back with MADV_DONTNEED when freed.  When a class holds more than
 * RT_HOT_SLOTS untrimmed free slots, a newly freed slot is trimmed whole:
 * its DTV is released, its malloc tcache pointer is kept in the free-array
 * entry, and every page goes back to the kernel.
 *
 * Guards.  mprotect splits a VMA, costing two VMAs per slot, so at most
 * `guard_budget` slots (a quarter of vm.max_map_count) hold a real guard
 * page at once; others keep the gap unprotected and rely on the stack
 * pointer check at every switch (proc.c).  A slot trimmed on free gives
 * its guard back (the VMAs merge again) and takes one anew when reused:
 * VMAs then follow the live threads, as glibc's unmapped stacks do, not
 * the peak.  Every VMA costs fork() (dup_mmap copies each one): 200 forks
 * after 2,000 threads had come and gone took 10 ms each with the 4,000
 * VMAs their guards left, against 0.3 ms natively (test stack_vmas).
 * Overflow into a guard is reported by the SIGSEGV handler (signal.c)
 * with rt_stack_find.
 *
 * Measured here (2 vCPU VM, kernel 6.18): a first-touch page fault costs
 * ~14 us, so a fresh slot (two faults: G + TCB + TLS, and the first stack
 * page) makes create-all-then-join ~8-10 us per thread, while create+join
 * in a loop reuses one hot slot and costs ~0.7 us.  1,000,000 parked
 * threads: 8.5 KB RSS + 0.54 KB page tables each (two slot pages plus the
 * ~320-byte DTV that ld.so mallocs per TLS block).
 *
 * Locks: each class's lock guards its free array and carving cursor; the
 * class list and chunk registry are guarded by classlock.  The registry is
 * append-only with an atomic count so the SIGSEGV handler reads it without
 * locks.  All leaf locks.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "atomic.h"
#include "diag.h"
#include "internal.h"

#define RT_PAGE 4096ul
#define RT_HOT_SLOTS 128
#define RT_DEEP_BYTES (64 * 1024)
#define RT_MAX_CHUNKS 65536
#define RT_CHUNK_BYTES (256ul << 20)

struct freeslot {
	uintptr_t base;
	void *tcache, *arena; /* carried malloc tcache of a trimmed slot */
	bool trimmed;         /* TLS must be built fresh */
	bool guarded;         /* its guard page is PROT_NONE */
};

struct rt_slotclass {
	size_t stack;    /* usable stack bytes (class key) */
	size_t guard;    /* guard bytes, page multiple (class key) */
	size_t slotsize; /* whole slot, page multiple */
	rt_mutex lock;
	struct freeslot *free; /* guarded by lock */
	size_t nfree, capfree, nhot;
	uintptr_t cur, end; /* carving cursor in the newest chunk */
	struct rt_slotclass *next;
};

struct chunk {
	uintptr_t base, end;
	struct rt_slotclass *cls;
};

static rt_mutex classlock;
static struct rt_slotclass *classes;
static struct chunk chunks[RT_MAX_CHUNKS];
static size_t nchunks; /* atomic; entries below it are immutable */
static size_t guard_budget;
static size_t guards_used; /* atomic: slots whose guard is PROT_NONE now */
static uint32_t faketid_next = 1u << 22;

/* Orphaned tcaches from user-provided stacks, handed to fresh slots. */
static rt_mutex orphanlock;
static struct {
	void *tcache, *arena;
} orphans[1024];
static int norphans;

static inline size_t page_up(size_t n) { return (n + RT_PAGE - 1) & ~(RT_PAGE - 1); }

void rt_stack_init(void)
{
	long maxmap = 65530;
	FILE *f = fopen("/proc/sys/vm/max_map_count", "re");
	if (f) {
		if (fscanf(f, "%ld", &maxmap) != 1)
			maxmap = 65530;
		fclose(f);
	}
	guard_budget = (size_t)maxmap / 4;
}

/* Protect the guard of the slot at base, if the budget allows. */
static bool guard_take(uintptr_t base, size_t guard)
{
	if (!guard)
		return false;
	if (rt_xadd(&guards_used, 1) > guard_budget ||
	    mprotect((void *)base, guard, PROT_NONE) != 0) {
		rt_xadd(&guards_used, (size_t)-1);
		return false;
	}
	return true;
}

/* Make a trimmed slot's guard ordinary memory again, so its VMA merges
 * with its neighbours'.  False (still guarded) if mprotect failed. */
static bool guard_drop(uintptr_t base, size_t guard)
{
	if (mprotect((void *)base, guard, PROT_READ | PROT_WRITE) != 0)
		return false;
	rt_xadd(&guards_used, (size_t)-1);
	return true;
}

static pid_t next_faketid(void)
{
	uint32_t t = rt_fetch_add(&faketid_next, 1u);
	if (t >= (1u << 30)) { /* wrap inside [2^22, 2^30) */
		rt_store(&faketid_next, (1u << 22) + 1);
		t = 1u << 22;
	}
	return (pid_t)t;
}

static struct rt_slotclass *getclass(size_t stack, size_t guard)
{
	rt_lock(&classlock);
	struct rt_slotclass *c;
	for (c = classes; c; c = c->next)
		if (c->stack == stack && c->guard == guard)
			break;
	if (!c) {
		c = calloc(1, sizeof *c);
		if (c) {
			c->stack = stack;
			c->guard = guard;
			/* As glibc, the G, TCB and TLS come out of the
			 * requested size (recursing by the stack size must
			 * reach the guard); the guard comes on top. */
			c->slotsize = page_up(guard + stack);
			c->next = classes;
			classes = c;
		}
	}
	rt_unlock(&classlock);
	return c;
}

/* Reserve a new chunk for c.  Called with c->lock held. */
static int newchunk(struct rt_slotclass *c)
{
	size_t n = RT_CHUNK_BYTES / c->slotsize;
	if (n < 16)
		n = 16;
	size_t bytes = n * c->slotsize;
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return EAGAIN;
	madvise(p, bytes, MADV_NOHUGEPAGE);
	rt_lock(&classlock);
	size_t i = rt_load(&nchunks);
	if (i == RT_MAX_CHUNKS) {
		rt_unlock(&classlock);
		munmap(p, bytes);
		return EAGAIN;
	}
	chunks[i] = (struct chunk){(uintptr_t)p, (uintptr_t)p + bytes, c};
	rt_store(&nchunks, i + 1); /* publishes the entry (seq_cst) */
	rt_unlock(&classlock);
	c->cur = (uintptr_t)p;
	c->end = (uintptr_t)p + bytes;
	return 0;
}

static void fill_stk(struct rt_g *g, uintptr_t base, struct rt_slotclass *c,
		     void *tp, uintptr_t hi, bool guarded)
{
	g->stk.base = base;
	g->stk.size = c->slotsize;
	g->stk.guard = guarded ? c->guard : 0;
	/* Usable from just above the guard: the page rounding of the slot
	 * gives a little more than asked, and an overflow by the stack size
	 * must hit the guard (POSIX tests check this). */
	g->stk.lo = base + c->guard;
	g->stk.hi = hi;
	g->stk.reqsize = c->stack;
	g->stk.cls = c;
	g->stk.user = false;
	g->tp = tp;
}

static void take_orphan(void **tcache, void **arena)
{
	if (!rt_load_relaxed(&norphans))
		return;
	rt_lock(&orphanlock);
	if (norphans > 0) {
		norphans--;
		*tcache = orphans[norphans].tcache;
		*arena = orphans[norphans].arena;
	}
	rt_unlock(&orphanlock);
}

/*
 * rt_stack_alloc: a slot of `stack` bytes (rounded up to pages) above
 * `guard` guard bytes, holding at its top the struct rt_g, TCB and TLS
 * (rt_tls.area bytes) and below them the usable stack, as glibc lays out
 * a thread of that stack size; the TLS block and TCB are initialised and
 * the struct rt_g zeroed (stk and tp filled in).  NULL with *err = EINVAL
 * when `stack` leaves less than 2 KiB of usable stack, EAGAIN when memory
 * or address space ran out.  Thread-safe.
 */
struct rt_g *rt_stack_alloc(size_t stack, size_t guard, int *err)
{
	stack = (stack + 15) & ~(size_t)15;
	if (stack < rt_tls.area + 2048) { /* glibc: EINVAL, no room left */
		*err = EINVAL;
		return NULL;
	}
	guard = page_up(guard);
	struct rt_slotclass *c = getclass(stack, guard);
	if (!c) {
		*err = EAGAIN;
		return NULL;
	}
	struct freeslot fs = {0};
	bool fresh = false, guarded = false;

	rt_lock(&c->lock);
	if (c->nfree > 0) {
		fs = c->free[--c->nfree];
		if (!fs.trimmed)
			c->nhot--;
	} else {
		if (c->cur + c->slotsize > c->end) {
			int e = newchunk(c);
			if (e) {
				rt_unlock(&c->lock);
				*err = e;
				return NULL;
			}
		}
		fs.base = c->cur;
		c->cur += c->slotsize;
		fresh = true;
	}
	rt_unlock(&c->lock);

	if (fresh || (fs.trimmed && !fs.guarded))
		guarded = guard_take(fs.base, guard);
	uintptr_t top = fs.base + c->slotsize, hi;
	void *tp;
	struct rt_g *g = rt_tls_layout(top, &tp, &hi);
	guarded = guarded || fs.guarded;
	bool reuse = !fresh && !fs.trimmed;
	if (!reuse && !fs.tcache)
		take_orphan(&fs.tcache, &fs.arena);
	int e = rt_tls_init(tp, reuse, next_faketid(), hi - stack, stack,
			    guarded ? guard : 0);
	if (e) {
		rt_stack_free_slot(c, fs.base, NULL, NULL, false, guarded);
		*err = e;
		return NULL;
	}
	if (!reuse && fs.tcache)
		rt_tls_set_tcache(tp, fs.tcache, fs.arena);
	memset(g, 0, offsetof(struct rt_g, shim));
	fill_stk(g, fs.base, c, tp, hi, guarded);
	rt_stats_stack((int64_t)c->slotsize);
	return g;
}

/* Put a slot on its class's free array (trimming as the policy says). */
void rt_stack_free_slot(struct rt_slotclass *c, uintptr_t base, void *tp,
			struct rt_g *g, bool deep, bool guarded)
{
	struct freeslot fs = {.base = base, .guarded = guarded};
	rt_lock(&c->lock);
	bool trim = c->nhot >= RT_HOT_SLOTS || tp == NULL;
	if (!trim)
		c->nhot++;
	rt_unlock(&c->lock);

	if (trim && tp) {
		rt_tls_get_tcache(tp, &fs.tcache, &fs.arena);
		rt_tls_release(tp);
	}
	if (trim || deep) {
		rt_xadd(&rt_stats.nstackgc, 1);
		struct rt_g *cur = rt_getg();
		RT_TRACE(cur ? cur->m : NULL, TR_STACKGC, NULL,
			 trim ? c->slotsize : g->stk.hi - g->stk.lo);
	}
	if (trim) {
		fs.trimmed = true;
		if (guarded && guard_drop(base, c->guard))
			fs.guarded = false;
		uintptr_t lo = base + c->guard;
		madvise((void *)lo, base + c->slotsize - lo, MADV_DONTNEED);
	} else if (deep && g) {
		uintptr_t keep = (g->stk.hi - 16384) & ~(RT_PAGE - 1);
		uintptr_t lo = (g->stk.lo + RT_PAGE - 1) & ~(RT_PAGE - 1);
		if (keep > lo)
			madvise((void *)lo, keep - lo, MADV_DONTNEED);
	}

	rt_lock(&c->lock);
	if (c->nfree == c->capfree) {
		size_t nc = c->capfree ? c->capfree * 2 : 64;
		struct freeslot *nf = realloc(c->free, nc * sizeof *nf);
		if (!nf) { /* cannot track it: the slot is simply lost */
			rt_unlock(&c->lock);
			return;
		}
		c->free = nf;
		c->capfree = nc;
	}
	c->free[c->nfree++] = fs;
	rt_unlock(&c->lock);
}

/*
 * rt_stack_user: carve G, TCB and TLS from the top of program memory
 * [addr, addr+size) (pthread_attr_setstack), as glibc does.  EINVAL when
 * the area cannot hold them plus a minimal stack.
 */
struct rt_g *rt_stack_user(void *addr, size_t size, int *err)
{
	uintptr_t top = ((uintptr_t)addr + size) & ~(uintptr_t)63, hi;
	void *tp;
	if (size < rt_tls.area + 8192) {
		*err = EINVAL;
		return NULL;
	}
	struct rt_g *g = rt_tls_layout(top, &tp, &hi);
	void *tc = NULL, *ar = NULL;
	take_orphan(&tc, &ar);
	int e = rt_tls_init(tp, false, next_faketid(), (uintptr_t)addr,
			    hi - (uintptr_t)addr, 0);
	if (e) {
		*err = e;
		return NULL;
	}
	if (tc)
		rt_tls_set_tcache(tp, tc, ar);
	memset(g, 0, offsetof(struct rt_g, shim));
	g->stk.base = (uintptr_t)addr;
	g->stk.size = size;
	g->stk.lo = (uintptr_t)addr;
	g->stk.hi = hi;
	g->stk.reqsize = size;
	g->stk.user = true;
	g->tp = tp;
	rt_user_register(g);
	return g;
}

/* Release a dead G's slot.  Runs on g0 (never on the G's own stack). */
void rt_stack_free(struct rt_g *g)
{
	g->magic = 0;
	if (g->stk.user) {
		void *tc = NULL, *ar = NULL;
		rt_user_unregister(g);
		rt_tls_get_tcache(g->tp, &tc, &ar);
		rt_tls_release(g->tp);
		if (tc) {
			rt_lock(&orphanlock);
			if (norphans < (int)(sizeof orphans / sizeof orphans[0])) {
				orphans[norphans].tcache = tc;
				orphans[norphans].arena = ar;
				norphans++;
			}
			rt_unlock(&orphanlock);
		}
		return;
	}
	bool deep = g->minsp && g->minsp < g->stk.hi - RT_DEEP_BYTES;
	rt_stats_stack(-(int64_t)g->stk.cls->slotsize);
	rt_stack_free_slot(g->stk.cls, g->stk.base, g->tp, g, deep,
			   g->stk.guard != 0);
}

/*
 * rt_stack_find: the G whose slot contains addr, or NULL.  Lock-free and
 * async-signal-safe (used by the SIGSEGV handler and to validate
 * pthread_t values).  *in_guard says whether addr is in the guard/gap.
 */
struct rt_g *rt_stack_find(uintptr_t addr, bool *in_guard)
{
	size_t n = rt_load(&nchunks);
	for (size_t i = n; i-- > 0;) {
		const struct chunk *ch = &chunks[i];
		if (addr < ch->base || addr >= ch->end)
			continue;
		size_t ss = ch->cls->slotsize;
		uintptr_t base = ch->base + (addr - ch->base) / ss * ss;
		uintptr_t hi;
		void *tp;
		struct rt_g *g = rt_tls_layout(base + ss, &tp, &hi);
		if (in_guard)
			*in_guard = addr < base + ch->cls->guard;
		return g;
	}
	return rt_user_find(addr, in_guard);
}

/* pthread_t (a TCB address) -> live G, or NULL. */
struct rt_g *rt_g_from_tp(void *tp)
{
	struct rt_g *g = rt_stack_find((uintptr_t)tp, NULL);
	if (g && g->tp == tp && rt_load(&g->magic) == RT_G_MAGIC)
		return g;
	return rt_g_special(tp);
}

/* In the child of fork(): locks another thread held at the fork stay held
 * forever; the structures they guard are only ever changed by short
 * critical sections, so release them.  Slots of threads that do not
 * exist in the child are simply never freed. */
void rt_stack_fork_child(void)
{
	classlock.key = 0;
	orphanlock.key = 0;
	for (struct rt_slotclass *c = classes; c; c = c->next)
		c->lock.key = 0;
}

bool rt_addr_is_stack(uintptr_t addr)
{
	size_t n = rt_load(&nchunks);
	for (size_t i = n; i-- > 0;)
		if (addr >= chunks[i].base && addr < chunks[i].end)
			return true;
	return false;
}

/* dump.c: call fn for every live G in a slot (RT_G_MAGIC set), without
 * locks.  Only carved slots are read (below the class's cursor in its
 * newest chunk); trimmed slots read as zeros. */
void rt_stack_foreach(void (*fn)(struct rt_g *g, void *arg), void *arg)
{
	size_t n = rt_load(&nchunks);
	for (size_t i = 0; i < n; i++) {
		const struct chunk *ch = &chunks[i];
		size_t ss = ch->cls->slotsize;
		uintptr_t end = ch->end;
		uintptr_t cur = rt_load_relaxed(&ch->cls->cur);
		if (cur >= ch->base && cur <= ch->end)
			end = cur;
		for (uintptr_t b = ch->base; b + ss <= end; b += ss) {
			uintptr_t hi;
			void *tp;
			struct rt_g *g = rt_tls_layout(b + ss, &tp, &hi);
			if (rt_load_relaxed(&g->magic) == RT_G_MAGIC &&
			    !g->isg0)
				fn(g, arg);
		}
	}
}
