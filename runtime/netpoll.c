/*
 * netpoll.c - the netpoller: the one place an idle M blocks waiting for
 * time to pass or for the outside world, and the per-fd state that lets a
 * G park until its fd is ready instead of blocking its M.
 *
 * Model (Go's netpoll.go, adapted to Gs that may share an fd).
 *
 *   One epoll instance.  Every fd a G ever waits on is registered once,
 *   edge-triggered, for EPOLLIN|EPOLLOUT|EPOLLRDHUP|EPOLLPRI, with
 *   data = generation << 32 | fd.  A poll descriptor (pd) per fd number
 *   holds: a lock, the generation, two readiness counters (rseq, wseq) and
 *   two lists of waiter nodes (read, write).  pds live in a table of
 *   chunks indexed by fd, allocated on first use and never freed
 *   (type-stable: the poller may look at a pd without any reference
 *   counting).  fds >= RT_PD_MAXFD are not pollable here.
 *
 *   A waiting G owns a pollwait record (on its stack) and one node per
 *   (fd, direction) it waits for; a single read() has one node, poll() on
 *   a thousand fds has a thousand.  The pollwait decides the wake-up once
 *   (its `fired` flag and the G's wake-once token), so a G on many lists is
 *   readied at most once.
 *
 * Edge-triggered readiness without lost wake-ups.  epoll reports a change
 * once; a G that saw EAGAIN must not park after the edge that would have
 * woken it went by.  So the caller takes a token (generation + counters)
 * BEFORE its attempt, and rt_netpoll_wait, under the pd lock, parks only if
 * the counter it needs is unchanged.  The poller bumps the counter and
 * wakes every waiter of that direction under the same lock.  Any report
 * after the attempt therefore either finds the G's node on the list or
 * shows up as a changed counter.  Waking *all* waiters of a direction is
 * what keeps several Gs blocked in accept()/read() on one fd correct: each
 * retries; those that lose the race see EAGAIN, take a new token and park
 * again.  (Cost: a herd when thousands wait on one fd; see "rejected".)
 *
 * Invariants.
 *   - pd->gen, pd->rseq, pd->wseq, pd->registered and the lists change
 *     only under pd->lock; gen/seq are also read without it (atomic) to
 *     build tokens.
 *   - A node is on a list iff node->queued (under pd->lock).
 *   - w->parked is set by the G under w->lock, which it releases only on
 *     g0 after switching out (rt_park's unlock callback).  So whoever sees
 *     parked == true under w->lock may wake the G: it is really parked.
 *   - A G returns from a wait only after it took the lock of every pd it
 *     enqueued on and unlinked its nodes: a waker that found a node under
 *     pd->lock may therefore use node->w until it drops pd->lock.
 *   - Lock order: pd->lock, then pollwait lock, then (through rt_wake)
 *     sched.lock.  No pd lock is held across a context switch.
 *
 * Protocol with findrunnable (proc.c).  The scheduler calls
 * rt_netpoll(0) when Gs wait (rt_netpoll_waiters() > 0) and no M is
 * blocked in the poller; an M with nothing to do becomes the one blocking
 * poller (sched.polling) with the earliest timer as timeout.  rt_netpoll
 * runs on an M without a P (blocking case), so it only *claims* wake-ups
 * (rt_wake_claim) and returns the Gs linked through g->schedlink; the
 * caller readies them.  rt_netpoll_break() writes an eventfd to end a
 * blocking poll early (a nearer timer, new work); wakesig (Go's
 * netpollWakeSig) keeps a burst of breaks to one write.
 *
 * Close.  rt_netpoll_close(fd), called before the real close/dup2,
 * removes the registration (EPOLL_CTL_DEL while the fd still names the old
 * file), bumps the generation and wakes every waiter; they see the new
 * generation and return EBADF.  Events already queued in the kernel for
 * the old file carry the old generation and are dropped.  rt_netpoll_fdnew
 * does the same for an fd number that libc closed behind our back.
 *
 * Rejected designs.
 *   - Level-triggered registration: every ready fd nobody waits on would
 *     be reported on every poll (a busy loop) unless we EPOLL_CTL_MOD per
 *     wait: two syscalls per park instead of none.
 *   - One-shot registration (EPOLLONESHOT): a re-arm syscall per wait.
 *   - Waking one waiter per edge: with edge-triggered epoll the woken G
 *     may not consume everything (it reads 1 byte of 100), stranding the
 *     others; a correct "pass the baton" scheme needs a hook after every
 *     successful call.  Revisit if accept() herds show up in profiles.
 *   - A waiter list of Gs threaded through g->waitnext: a G in poll() must
 *     be on many lists at once.
 *
 * epoll_pwait2 gives nanosecond timeouts (kernel 5.11+); where it is
 * missing we fall back to epoll_wait with the delay rounded up to 1 ms.
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <time.h>

#include "atomic.h"
#include "diag.h"
#include "internal.h"
#include "rt_netpoll.h"
#include "sys.h"

#ifndef SYS_epoll_pwait2
#define SYS_epoll_pwait2 441
#endif

#define RT_PD_CHUNK 4096
#define RT_PD_MAXFD (1 << 20)
#define BREAK_DATA UINT64_MAX /* epoll data of the break eventfd */
#define NEVENTS 128

struct pollwait {
	rt_mutex lock;
	struct rt_g *g; /* immutable */
	bool parked;    /* under lock: the G is (being) parked */
	bool fired;     /* under lock: something it waits for happened */
};

struct pd;
struct pollnode {
	struct pollnode *next, *prev; /* under pd->lock */
	struct pollwait *w;           /* immutable while queued */
	struct pd *pd;
	int mode;                     /* 0 read list, 1 write list */
	bool queued;                  /* under pd->lock */
};

struct pd {
	rt_mutex lock;
	uint32_t gen;            /* atomic reads; written under lock */
	uint32_t seq[2];         /* read/write reports; as gen */
	bool registered;         /* under lock: in epfd for this gen;
				    also read without it (a hint) */
	bool nodrain;            /* under lock: priority data, a hang-up or
				    an error was reported for this gen (a
				    short TCP read may stop at the urgent
				    mark, or at the end of the stream with
				    nothing new to come): drained proves
				    nothing; atomic reads */
	uint64_t drained;        /* atomic: token key + 1 (gen << 32 | rseq)
				    of a read that found the receive queue
				    empty; 0: none (rt_netpoll_set_drained) */
	struct pollnode *q[2];   /* under lock: read / write waiters */
};

static int epfd = -1, breakfd = -1;
static uint32_t wakesig;   /* atomic: a break is pending */
static int have_pwait2 = 1;
static int32_t nwaiters;   /* atomic: Gs parked in a netpoll wait */
static struct pd *chunks[RT_PD_MAXFD / RT_PD_CHUNK]; /* atomic, never freed */

/* A list of claimed Gs, linked through schedlink. */
struct glist {
	struct rt_g *head;
	int n;
};

int32_t rt_netpoll_waiters(void) { return rt_load(&nwaiters); }

/* Our two fds live near the top of the fd table, out of the way of the
 * program: fds 3 and 4 are what daemons close (close_range(3, ~0U)) and
 * shells overwrite (exec 3>&1), and a program's own fds keep their native
 * numbers.  Returns the new fd (the old one closed) or fd unchanged. */
static int move_high(int fd)
{
	struct rlimit rl;
	if (fd < 0 || rt_syscall4(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, &rl) != 0 ||
	    rl.rlim_cur < 128)
		return fd;
	long base = (long)(rl.rlim_cur > 65536 ? 65536 : rl.rlim_cur) - 16;
	long nfd = rt_syscall3(SYS_fcntl, fd, F_DUPFD_CLOEXEC, base);
	if (nfd < 0)
		return fd;
	rt_syscall1(SYS_close, fd);
	return (int)nfd;
}

bool rt_netpoll_owns_fd(int fd) { return fd >= 0 && (fd == epfd || fd == breakfd); }

/* The program wants fd's number (dup2 onto it): move ours elsewhere. */
void rt_netpoll_evacuate(int fd)
{
	int *mine = fd == epfd ? &epfd : fd == breakfd ? &breakfd : NULL;
	if (!mine)
		return;
	long nfd = rt_syscall3(SYS_fcntl, fd, F_DUPFD_CLOEXEC, 3);
	if (nfd < 0)
		rt_throw("cannot move the netpoller's fd out of the program's way");
	*mine = (int)nfd; /* the epoll registration follows the file */
	rt_syscall1(SYS_close, fd);
}

int rt_netpoll_init(void)
{
	epfd = move_high((int)rt_syscall1(SYS_epoll_create1, EPOLL_CLOEXEC));
	if (epfd < 0)
		return -1;
	breakfd = move_high((int)rt_syscall2(SYS_eventfd2, 0,
					     EFD_CLOEXEC | EFD_NONBLOCK));
	if (breakfd < 0)
		return -1;
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = BREAK_DATA};
	if (rt_syscall4(SYS_epoll_ctl, epfd, EPOLL_CTL_ADD, breakfd, &ev) < 0)
		return -1;
	return 0;
}

/* ---- the pd table ------------------------------------------------------ */

static struct pd *chunk_alloc(int ci)
{
	size_t sz = RT_PD_CHUNK * sizeof(struct pd);
	long a = rt_syscall6(SYS_mmap, 0, (long)sz, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (a < 0 && a > -4096)
		return NULL;
	struct pd *c = (struct pd *)a, *none = NULL;
	/* Publish with release so pds read as zero-initialised memory. */
	if (!__atomic_compare_exchange_n(&chunks[ci], &none, c, false,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		rt_syscall2(SYS_munmap, a, (long)sz);
		return none; /* another G won; use its chunk */
	}
	return c;
}

static struct pd *pd_get(int fd, bool create)
{
	if (fd < 0 || fd >= RT_PD_MAXFD)
		return NULL;
	int ci = fd / RT_PD_CHUNK;
	struct pd *c = rt_load_acq(&chunks[ci]); /* pairs with chunk_alloc */
	if (!c && create)
		c = chunk_alloc(ci);
	return c ? &c[fd % RT_PD_CHUNK] : NULL;
}

void rt_netpoll_token(int fd, struct rt_polltok *t)
{
	struct pd *pd = pd_get(fd, false);
	if (!pd) { /* a fresh pd reads as zeros */
		t->gen = t->rseq = t->wseq = 0;
		return;
	}
	t->gen = rt_load_acq(&pd->gen);
	t->rseq = rt_load_acq(&pd->seq[0]);
	t->wseq = rt_load_acq(&pd->seq[1]);
}

static uint64_t tokkey(const struct rt_polltok *t)
{
	return ((uint64_t)t->gen << 32 | t->rseq) + 1;
}

void rt_netpoll_set_drained(int fd, const struct rt_polltok *t)
{
	struct pd *pd = pd_get(fd, false);
	if (pd)
		rt_store_rel(&pd->drained, tokkey(t));
}

bool rt_netpoll_drained(int fd, const struct rt_polltok *t)
{
	struct pd *pd = pd_get(fd, false);
	return pd && rt_load_relaxed(&pd->registered) &&
	       !rt_load_relaxed(&pd->nodrain) &&
	       rt_load_acq(&pd->drained) == tokkey(t);
}

/* pd->lock held.  Register fd (edge-triggered) for the current gen. */
static int pd_register(struct pd *pd, int fd)
{
	if (pd->registered)
		return 0;
	struct epoll_event ev = {
	    .events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLPRI | EPOLLET,
	    .data.u64 = (uint64_t)pd->gen << 32 | (uint32_t)fd,
	};
	long r = rt_syscall4(SYS_epoll_ctl, epfd, EPOLL_CTL_ADD, fd, &ev);
	if (r == -EEXIST) /* a stale registration of this very file */
		r = rt_syscall4(SYS_epoll_ctl, epfd, EPOLL_CTL_MOD, fd, &ev);
	if (r < 0)
		return (int)-r;
	pd->registered = true;
	return 0;
}

/* ---- waking ------------------------------------------------------------- */

/* Node's pd->lock held.  Decide the G's wake-up; with a P ready it,
 * without one claim it onto gl. */
static void pw_fire(struct pollwait *w, struct glist *gl)
{
	rt_lock(&w->lock);
	w->fired = true;
	if (w->parked) {
		w->parked = false;
		if (!gl) {
			rt_wake(w->g, RT_WOKEN);
		} else if (rt_wake_claim(w->g, RT_WOKEN)) {
			w->g->schedlink = gl->head;
			gl->head = w->g;
			gl->n++;
		}
	}
	rt_unlock(&w->lock);
}

/* pd->lock held.  Empty list `mode`, firing every waiter. */
static void fire_list(struct pd *pd, int mode, struct glist *gl)
{
	struct pollnode *n;
	while ((n = pd->q[mode])) {
		pd->q[mode] = n->next;
		if (n->next)
			n->next->prev = NULL;
		n->queued = false;
		pw_fire(n->w, gl);
	}
}

static void enqueue(struct pd *pd, struct pollnode *n)
{
	n->prev = NULL;
	n->next = pd->q[n->mode];
	if (n->next)
		n->next->prev = n;
	pd->q[n->mode] = n;
	n->queued = true;
}

static void dequeue(struct pollnode *n)
{
	struct pd *pd = n->pd;
	rt_lock(&pd->lock);
	if (n->queued) {
		if (n->prev)
			n->prev->next = n->next;
		else
			pd->q[n->mode] = n->next;
		if (n->next)
			n->next->prev = n->prev;
		n->queued = false;
	}
	rt_unlock(&pd->lock);
}

/* pd->lock held.  The fd number now names another file (or none). */
static void pd_forget(struct pd *pd, int fd, bool del)
{
	if (pd->registered && del) {
		struct epoll_event ev = {0};
		rt_syscall4(SYS_epoll_ctl, epfd, EPOLL_CTL_DEL, fd, &ev);
	}
	pd->registered = false;
	rt_store_relaxed(&pd->nodrain, false);
	rt_store_rel(&pd->gen, pd->gen + 1);
	fire_list(pd, 0, NULL);
	fire_list(pd, 1, NULL);
}

void rt_netpoll_close(int fd)
{
	struct pd *pd = pd_get(fd, false);
	if (!pd)
		return;
	rt_lock(&pd->lock);
	if (pd->registered || pd->q[0] || pd->q[1])
		pd_forget(pd, fd, true);
	rt_unlock(&pd->lock);
}

void rt_netpoll_fdnew(int fd)
{
	struct pd *pd = pd_get(fd, false);
	if (!pd)
		return;
	rt_lock(&pd->lock);
	if (pd->registered || pd->q[0] || pd->q[1])
		pd_forget(pd, fd, false);
	rt_unlock(&pd->lock);
}

/* ---- waiting ------------------------------------------------------------- */

static bool unlock_pw(struct rt_g *g, void *arg)
{
	rt_unlock(&((struct pollwait *)arg)->lock);
	return true;
}

/* Queue nodes for one request (pd->lock taken here).  Returns 0, or 1
 * when something already happened since the token (fired), or an errno
 * from registration.  *used counts the nodes consumed. */
static int arm_one(const struct rt_pollreq *r, struct pollwait *w,
		   struct pollnode *nodes, int *used)
{
	struct pd *pd = pd_get(r->fd, true);
	if (!pd)
		return EPERM;
	rt_lock(&pd->lock);
	int ret = 0;
	if (pd->gen != r->tok.gen) {
		ret = 1; /* closed or replaced since the token */
	} else if ((ret = pd_register(pd, r->fd)) == 0) {
		const uint32_t tokseq[2] = {r->tok.rseq, r->tok.wseq};
		for (int m = 0; m < 2 && ret == 0; m++)
			if ((r->modes & (1 << m)) && pd->seq[m] != tokseq[m])
				ret = 1;
		for (int m = 0; m < 2 && ret == 0; m++) {
			if (!(r->modes & (1 << m)))
				continue;
			struct pollnode *n = &nodes[(*used)++];
			n->w = w;
			n->pd = pd;
			n->mode = m;
			enqueue(pd, n);
		}
	}
	rt_unlock(&pd->lock);
	return ret;
}

/* Park until w fires or the deadline; returns RT_WOKEN / RT_TIMEDOUT /
 * RT_INTR. */
static int park_pw(struct pollwait *w, int64_t deadline)
{
	struct rt_g *g = w->g;
	int res = RT_WOKEN;
	rt_xadd(&nwaiters, 1);
	g->m->npollwait++; /* statistics; owner M */
	rt_lock(&w->lock);
	if (w->fired) {
		rt_unlock(&w->lock);
	} else {
		w->parked = true;
		rt_prepare_wait(g);
		res = rt_park(unlock_pw, w, WAIT_IO, deadline);
	}
	rt_xadd(&nwaiters, -1);
	return res;
}

/* The common wait.  single: fail with the registration error of the one
 * request instead of skipping it.  A multi-fd wait with nothing pollable
 * just sleeps until the deadline (forever for -1), as poll(2) would. */
static int wait_reqs(struct rt_pollreq *r, int n, struct pollnode *nodes,
		     int64_t deadline, bool single)
{
	if (deadline >= 0 && deadline <= rt_nanotime())
		return ETIMEDOUT;
	struct pollwait w = {.g = rt_getg()};
	int used = 0, err = 0;
	/* for thread dumps (dump.c) */
	w.g->waitfd = n == 1 ? r[0].fd : -n;
	w.g->waitmodes = n == 1 ? (uint8_t)r[0].modes : 0;
	bool early = false;
	for (int i = 0; i < n && !early; i++) {
		if (r[i].fd < 0 || !(r[i].modes & (RT_POLL_R | RT_POLL_W)))
			continue;
		int e = arm_one(&r[i], &w, nodes, &used);
		if (e == 1)
			early = true;
		else if (e && single)
			err = e;
	}
	if (single && !early && (err || used == 0))
		return err ? err : EPERM;
	if (early) { /* queued nodes may already be visible to wakers */
		rt_lock(&w.lock);
		w.fired = true;
		rt_unlock(&w.lock);
	}
	int res = park_pw(&w, deadline);
	for (int i = 0; i < used; i++)
		dequeue(&nodes[i]);
	rt_lock(&w.lock); /* the last waker may still be in pw_fire */
	bool fired = w.fired;
	rt_unlock(&w.lock);
	if (fired) /* readiness wins over a timeout or a signal */
		return 0;
	return res == RT_TIMEDOUT ? ETIMEDOUT : res == RT_INTR ? EINTR : 0;
}

/* A signal handler that interrupted the scheduler (g0) called a blocking
 * I/O function: there is no G to park, so block the OS thread in ppoll
 * until one of the fds is ready (0) or the deadline passes (ETIMEDOUT),
 * as the call would natively.  More than 64 fds: re-check every ms. */
static int g0_wait(const struct rt_pollreq *r, int n, int64_t deadline)
{
	struct pollfd p[64];
	int k = 0;
	for (int i = 0; i < n && k < 64; i++) {
		if (r[i].fd < 0 || !r[i].modes)
			continue;
		p[k].fd = r[i].fd;
		p[k].events = (short)((r[i].modes & RT_POLL_R ? POLLIN : 0) |
				      (r[i].modes & RT_POLL_W ? POLLOUT : 0));
		p[k].revents = 0;
		k++;
	}
	int64_t wait = deadline < 0 ? -1 : deadline - rt_nanotime();
	if (n > 64 && (wait < 0 || wait > 1000000))
		wait = 1000000;
	if (deadline >= 0 && wait <= 0)
		return ETIMEDOUT;
	struct timespec ts = {wait / 1000000000, wait % 1000000000};
	long rc = rt_syscall6(SYS_ppoll, (long)p, k, wait < 0 ? 0 : (long)&ts,
			      0, 8, 0);
	if (rc == 0 && deadline >= 0 && rt_nanotime() >= deadline)
		return ETIMEDOUT;
	return 0;
}

int rt_netpoll_wait(int fd, int modes, const struct rt_polltok *t,
		    int64_t deadline)
{
	if (rt_cannot_park()) {
		struct rt_pollreq one = {.fd = fd, .modes = modes};
		return g0_wait(&one, 1, deadline);
	}
	struct rt_pollreq r = {.fd = fd, .modes = modes, .tok = *t};
	struct pollnode nodes[2];
	int e = wait_reqs(&r, 1, nodes, deadline, true);
	if (e == 0 || e == ETIMEDOUT) {
		struct pd *pd = pd_get(fd, false);
		if (pd && rt_load_acq(&pd->gen) != t->gen)
			return EBADF;
	}
	return e;
}

int rt_netpoll_wait_many(struct rt_pollreq *r, int n, int64_t deadline)
{
	if (rt_cannot_park())
		return g0_wait(r, n, deadline);
	struct pollnode stack[64], *nodes = stack;
	if (2 * n > 64) {
		nodes = malloc((size_t)n * 2 * sizeof *nodes);
		if (!nodes)
			return ENOMEM;
	}
	int e = wait_reqs(r, n, nodes, deadline, false);
	if (nodes != stack)
		free(nodes);
	return e;
}

/* ---- the poller ---------------------------------------------------------- */

void rt_netpoll_break(void)
{
	if (!rt_cas(&wakesig, 0u, 1u))
		return;
	uint64_t one = 1;
	rt_syscall3(SYS_write, breakfd, &one, sizeof one);
}

/* A readiness report for data = gen << 32 | fd. */
static void pd_event(uint64_t data, uint32_t ev, struct glist *gl)
{
	struct pd *pd = pd_get((int)(uint32_t)data, false);
	if (!pd)
		return;
	int modes = 0;
	if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR | EPOLLPRI))
		modes |= RT_POLL_R;
	if (ev & (EPOLLOUT | EPOLLHUP | EPOLLERR))
		modes |= RT_POLL_W;
	rt_lock(&pd->lock);
	if (pd->gen == (uint32_t)(data >> 32)) {
		/* lasting states a read may stop short before, with no
		 * edge to come: urgent mark, end of file, error */
		if (ev & (EPOLLPRI | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
			rt_store_relaxed(&pd->nodrain, true);
		for (int m = 0; m < 2; m++) {
			if (!(modes & (1 << m)))
				continue;
			rt_store_rel(&pd->seq[m], pd->seq[m] + 1);
			fire_list(pd, m, gl);
		}
	}
	rt_unlock(&pd->lock);
}

static long epoll_wait_ns(struct epoll_event *evs, int64_t delay)
{
	long r = -ENOSYS;
	if (have_pwait2) {
		struct timespec ts, *tsp = NULL;
		if (delay >= 0) {
			ts.tv_sec = delay / 1000000000;
			ts.tv_nsec = delay % 1000000000;
			tsp = &ts;
		}
		r = rt_syscall6(SYS_epoll_pwait2, epfd, (long)evs, NEVENTS,
				(long)tsp, 0, 8);
		if (r == -ENOSYS)
			have_pwait2 = 0;
	}
	if (!have_pwait2) {
		int ms = delay < 0 ? -1 : (int)((delay + 999999) / 1000000);
		r = rt_syscall4(SYS_epoll_wait, epfd, evs, NEVENTS, ms);
	}
	return r;
}

struct rt_g *rt_netpoll(int64_t delay, int *n)
{
	struct epoll_event evs[NEVENTS];
	struct glist gl = {NULL, 0};
	int64_t t0 = rt_trace_on && delay != 0 ? rt_trace_stamp() : 0;
	long r = epoll_wait_ns(evs, delay);
	for (long i = 0; i < r; i++) {
		if (evs[i].data.u64 == BREAK_DATA) {
			uint64_t v;
			rt_syscall3(SYS_read, breakfd, &v, sizeof v);
			rt_store(&wakesig, 0u);
			continue;
		}
		pd_event(evs[i].data.u64, evs[i].events, &gl);
	}
	rt_store(&rt_sched.lastpoll, rt_nanotime());
	if (t0) /* blocking polls only: the timeline's "netpoll" spans */
		rt_trace_poll(rt_getm(), t0, gl.n);
	*n = gl.n;
	return gl.head;
}

/* In the child of fork(): the epoll instance and the eventfd are shared
 * with the parent (one open file description), and every waiter belongs
 * to a thread that does not exist here.  Drop our references, make new
 * ones, and forget all registrations and waiters (fds will be registered
 * again in the new instance on first wait).  Single-threaded caller. */
void rt_netpoll_fork_child(void)
{
	rt_syscall1(SYS_close, epfd);
	rt_syscall1(SYS_close, breakfd);
	epfd = breakfd = -1;
	rt_store(&wakesig, 0u);
	rt_store(&nwaiters, 0);
	for (size_t c = 0; c < RT_PD_MAXFD / RT_PD_CHUNK; c++) {
		struct pd *ch = rt_load(&chunks[c]);
		if (!ch)
			continue;
		for (size_t i = 0; i < RT_PD_CHUNK; i++) {
			struct pd *pd = &ch[i];
			pd->lock.key = 0;
			pd->registered = false;
			pd->nodrain = false;
			pd->q[0] = pd->q[1] = NULL;
			rt_xadd(&pd->gen, 1u);
		}
	}
	if (rt_netpoll_init() != 0)
		rt_throw("cannot recreate the netpoller after fork");
}
