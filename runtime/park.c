/*
 * park.c - address-keyed wait queues: a futex for Gs.
 *
 * rt_futex_wait(addr, val, deadline) parks the calling G on the queue for
 * `addr` if *addr still equals val; rt_futex_wake(addr, n) readies up to n
 * of them in FIFO order.  Like the kernel futex, the value check and the
 * enqueue happen under the bucket lock that the waker also takes, so a
 * wake between "value changed" and "went to sleep" cannot be lost.
 *
 * Buckets: RT_NBUCKETS lists hashed by address, each guarded by its own
 * rt_mutex; a waiter is the G itself (g->waitnext/waitprev, g->waitaddr),
 * so waiting allocates nothing.  Timeouts use the G's timer; a waiter whose
 * timer won the wake-once race removes itself under the bucket lock.  The
 * list is doubly linked so that removal is O(1): CPython's GIL is a condvar
 * that every thread wanting the GIL waits on with a 5 ms timeout, and with
 * 20,000 such waiters a removal that walked the list made every timeout
 * cost O(waiters) (tests/prog/sync_timeout_long_queue.c).
 *
 * Fast path: rt_futex_wake returns at once when the bucket's nwait is 0.
 * This is safe by a Dekker pairing: the waiter increments nwait before it
 * reads *addr (both seq_cst); the waker changes *addr before it reads
 * nwait.  Either the waiter sees the new value (and does not sleep) or
 * the waker sees nwait > 0 (and takes the lock).
 *
 * Bitsets (FUTEX_WAIT_BITSET/WAKE_BITSET): a waiter records its mask in
 * g->waitbits; a wake only takes waiters whose mask intersects its own.
 *
 * Rejected: Go's semaphore treap (we need addresses chosen by the program
 * and FIFO within an address; per-bucket lists are enough at these sizes).
 */
#include <errno.h>

#include "atomic.h"
#include "diag.h"
#include "internal.h"

#define RT_NBUCKETS 1024

struct bucket {
	rt_mutex lock;
	uint32_t nwait;          /* atomic; queued Gs, for the wake fast path */
	struct rt_g *head, *tail;
} __attribute__((aligned(64)));

static struct bucket buckets[RT_NBUCKETS];

static struct bucket *bucket_of(void *addr)
{
	uintptr_t a = (uintptr_t)addr;
	a ^= a >> 17;
	a *= 0x9e3779b97f4a7c15ull;
	return &buckets[(a >> 40) % RT_NBUCKETS];
}

static bool unlock_bucket(struct rt_g *g, void *arg)
{
	rt_unlock(&((struct bucket *)arg)->lock);
	return true;
}

/* Add g to b's list, at the tail, or at the head when front (a waiter
 * that was woken and must wait again keeps its turn).  b->lock held. */
static void enqueue(struct bucket *b, struct rt_g *g, bool front)
{
	if (front) {
		g->waitprev = NULL;
		g->waitnext = b->head;
		if (b->head)
			b->head->waitprev = g;
		else
			b->tail = g;
		b->head = g;
		return;
	}
	g->waitnext = NULL;
	g->waitprev = b->tail;
	if (b->tail)
		b->tail->waitnext = g;
	else
		b->head = g;
	b->tail = g;
}

/* Unlink g, which is on b's list (b->lock held). */
static void unlink_waiter(struct bucket *b, struct rt_g *g)
{
	if (g->waitprev)
		g->waitprev->waitnext = g->waitnext;
	else
		b->head = g->waitnext;
	if (g->waitnext)
		g->waitnext->waitprev = g->waitprev;
	else
		b->tail = g->waitprev;
	g->waitnext = g->waitprev = NULL;
}

/* Remove g from b if it is still queued (b->lock held).  A G is on the
 * list iff it has a predecessor or is the head; unlinking clears both. */
static bool dequeue(struct bucket *b, struct rt_g *g)
{
	if (!g->waitprev && b->head != g)
		return false;
	unlink_waiter(b, g);
	return true;
}

int rt_futex_wait(uint32_t *addr, uint32_t val, int64_t deadline)
{
	return rt_futex_wait_bitset(addr, val, deadline, ~0u);
}

int rt_futex_wait_bitset(uint32_t *addr, uint32_t val, int64_t deadline,
			 uint32_t bits)
{
	struct rt_g *g = rt_getg();
	if (rt_cannot_park()) {
		/* No G to park (a handler on the signal stack): poll the word,
		 * blocking the OS thread; green wakes do not reach us, so
		 * return as a (permitted) spurious wake-up once it changed. */
		while (rt_load(addr) == val) {
			if (deadline >= 0 && rt_nanotime() >= deadline)
				return ETIMEDOUT;
			rt_futex_wait_os(addr, val, 100000);
		}
		return 0;
	}
	struct bucket *b = bucket_of(addr);
	rt_lock(&b->lock);
	rt_xadd(&b->nwait, 1u); /* before reading *addr: see header */
	if (rt_load(addr) != val) {
		rt_xadd(&b->nwait, -1u);
		rt_unlock(&b->lock);
		return EAGAIN;
	}
	if (deadline >= 0 && deadline <= rt_nanotime()) {
		rt_xadd(&b->nwait, -1u);
		rt_unlock(&b->lock);
		return ETIMEDOUT;
	}
	g->waitbits = bits;
	g->waitaddr = addr;
	enqueue(b, g, g->waitfront);
	rt_prepare_wait(g);
	int r = rt_park(unlock_bucket, b, g->waithint ? g->waithint : WAIT_FUTEX,
			deadline);
	if (r == RT_TIMEDOUT || r == RT_INTR) {
		/* a waker that found us claimed already (its rt_wake failed)
		 * did not count us and went on to the next waiter */
		rt_lock(&b->lock);
		if (dequeue(b, g))
			rt_xadd(&b->nwait, -1u);
		rt_unlock(&b->lock);
		return r == RT_INTR ? EINTR : ETIMEDOUT;
	}
	return 0;
}

int rt_futex_wait_why(uint32_t *addr, uint32_t val, int64_t deadline,
		      enum rt_waitreason why)
{
	struct rt_g *g = rt_getg();
	if (!g) /* an OS thread of glibc's own: rt_futex_wait_bitset blocks it */
		return rt_futex_wait_bitset(addr, val, deadline, ~0u);
	/* the deadlock check runs in sysmon, which otherwise starts with the
	 * first thread: a program that never made one can deadlock too */
	if (__builtin_expect(!rt_load_relaxed(&rt_sched.sysmon_started), 0))
		rt_diag_need_sysmon();
	g->waithint = (uint8_t)why;
	int r = rt_futex_wait_bitset(addr, val, deadline, ~0u);
	g->waithint = WAIT_NONE;
	return r;
}

int rt_futex_wake(uint32_t *addr, int n)
{
	return rt_futex_wake_bitset(addr, n, ~0u);
}

int rt_futex_wake_bitset(uint32_t *addr, int n, uint32_t bits)
{
	struct bucket *b = bucket_of(addr);
	int woken = 0;
	if (rt_load(&b->nwait) == 0)
		return 0;
	rt_lock(&b->lock);
	struct rt_g *w = b->head;
	while (w && woken < n) {
		struct rt_g *next = w->waitnext;
		if (w->waitaddr == addr && (w->waitbits & bits)) {
			rt_xadd(&b->nwait, -1u);
			unlink_waiter(b, w);
			/* false: its timer already woke it; it will see
			 * itself gone and report the timeout. */
			if (rt_wake(w, RT_WOKEN))
				woken++;
		}
		w = next;
	}
	rt_unlock(&b->lock);
	return woken;
}

/* In the child of fork(): every queued waiter is a thread that does not
 * exist there. */
void rt_park_fork_child(void)
{
	for (int i = 0; i < RT_NBUCKETS; i++) {
		buckets[i].lock.key = 0;
		buckets[i].nwait = 0;
		buckets[i].head = buckets[i].tail = NULL;
	}
}
