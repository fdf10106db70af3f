/*
 * poll.c - poll, ppoll, select, pselect, epoll_wait, epoll_pwait,
 * epoll_pwait2 (and __poll, __poll_chk, __ppoll_chk, __select): the
 * calling G parks in the netpoller instead of blocking its M.
 *
 * Each call is a loop: take a netpoller token for every fd, ask the
 * kernel with a zero timeout (the real call, so every result bit and
 * error is the kernel's own), and if nothing is ready park until one of
 * the fds reports readiness after its token, or the deadline.  The
 * program's epoll fd is itself pollable: we wait for it to become
 * readable in our epoll, then call the real epoll_wait with timeout 0.
 * poll(NULL, 0, ms) and select with no fds are plain sleeps (a negative
 * timeout / NULL timeval sleeps forever).  select writes the unslept time
 * back into its timeval, as Linux does; pselect and ppoll do not.
 *
 * Signal masks (ppoll, pselect, epoll_pwait): passed to every real
 * zero-timeout call, so a signal pending and unblocked by the mask
 * interrupts with a real EINTR; while parked the G keeps its own mask
 * (delivery to parked Gs is the signals issue).  No EINTR is invented.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/time.h>

#include "fdio.h"
#include "shim.h"

extern void __chk_fail(void) __attribute__((noreturn));

static int64_t ms_deadline(int ms)
{
	return ms < 0 ? -1 : rt_nanotime() + (int64_t)ms * 1000000;
}

static int64_t ts_deadline(const struct timespec *ts)
{
	return ts ? rt_nanotime() + shim_ts_ns(ts) : -1;
}

/* Time left until dl as a timespec (NULL for no deadline). */
static struct timespec *remaining(int64_t dl, struct timespec *ts)
{
	if (dl < 0)
		return NULL;
	int64_t d = dl - rt_nanotime();
	if (d < 0)
		d = 0;
	ts->tv_sec = d / 1000000000;
	ts->tv_nsec = d % 1000000000;
	return ts;
}

static bool expired(int64_t dl) { return dl >= 0 && rt_nanotime() >= dl; }

/* ---- poll ---------------------------------------------------------------- */

static int ev_modes(short ev)
{
	int m = 0;
	if (ev & (POLLIN | POLLPRI | POLLRDNORM | POLLRDBAND | POLLRDHUP))
		m |= RT_POLL_R;
	if (ev & (POLLOUT | POLLWRNORM | POLLWRBAND))
		m |= RT_POLL_W;
	return m ? m : RT_POLL_R; /* errors and hang-ups only */
}

/* ppoll/pselect/epoll_pwait's mask is the calling thread's for the
 * duration of the wait; masks live in software (signal.c), so the real
 * zero-timeout checks get NULL.  Returns the mask to put back. */
static uint64_t mask_enter(const sigset_t *mask)
{
	uint64_t old = rt_sigmask_get();
	if (mask)
		rt_sigmask_set(shim_sigset_bits(mask));
	return old;
}

static void mask_leave(const sigset_t *mask, uint64_t old)
{
	if (mask) {
		rt_sigmask_set(old);
		rt_sigcheck();
	}
}

/* A wait of the poll family returned EINTR: run the handlers (these calls
 * are never restarted, signal(7)).  True: fail with EINTR now. */
static bool poll_intr(void)
{
	if (shim_intr_restart(false))
		return false;
	errno = EINTR;
	return true;
}

static int poll_wait(struct pollfd *fds, nfds_t n, int64_t dl);

static int poll_impl(struct pollfd *fds, nfds_t n, int64_t dl,
		     const sigset_t *mask)
{
	shim_testcancel();
	uint64_t oldmask = mask_enter(mask);
	int r = poll_wait(fds, n, dl);
	mask_leave(mask, oldmask);
	return r;
}

static int poll_wait(struct pollfd *fds, nfds_t n, int64_t dl)
{
	const sigset_t *mask = NULL;
	static const struct timespec zero = {0, 0};
	struct timespec ts;
	struct rt_pollreq stack[32], *rq = stack;
	if (n > 32 && !(rq = malloc(n * sizeof *rq)))
		return real.ppoll(fds, n, remaining(dl, &ts), mask);
	int r;
	for (;;) {
		for (nfds_t i = 0; i < n; i++) {
			rq[i].fd = fds[i].fd;
			rq[i].modes = ev_modes(fds[i].events);
			rt_netpoll_token(fds[i].fd, &rq[i].tok);
		}
		r = real.ppoll(fds, n, &zero, mask);
		if (r != 0 || expired(dl))
			break;
		int e = SHIM_INTR(rt_netpoll_wait_many(rq, (int)n, dl));
		if (e == EINTR && poll_intr()) {
			r = -1;
			break;
		}
		if (e == ENOMEM) {
			r = real.ppoll(fds, n, remaining(dl, &ts), mask);
			break;
		}
		if (e == ETIMEDOUT)
			break; /* r == 0, revents cleared by the last check */
	}
	if (rq != stack)
		free(rq);
	return r;
}

EXPORT int poll(struct pollfd *fds, nfds_t n, int timeout)
{
	shim_check();
	if (timeout == 0)
		return real.poll(fds, n, 0);
	return poll_impl(fds, n, ms_deadline(timeout), NULL);
}

EXPORT int __poll(struct pollfd *fds, nfds_t n, int timeout)
{
	return poll(fds, n, timeout);
}

EXPORT int __poll_chk(struct pollfd *fds, nfds_t n, int timeout, size_t len)
{
	if (len / sizeof *fds < n)
		__chk_fail();
	return poll(fds, n, timeout);
}

EXPORT int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *tmo,
		 const sigset_t *mask)
{
	shim_check();
	if ((tmo && !shim_ts_valid(tmo)) || (tmo && !tmo->tv_sec && !tmo->tv_nsec))
		return real.ppoll(fds, n, tmo, mask);
	return poll_impl(fds, n, ts_deadline(tmo), mask);
}

EXPORT int __ppoll_chk(struct pollfd *fds, nfds_t n,
		       const struct timespec *tmo, const sigset_t *mask,
		       size_t len)
{
	if (len / sizeof *fds < n)
		__chk_fail();
	return ppoll(fds, n, tmo, mask);
}

/* ---- select -------------------------------------------------------------- */

#define WBITS (8 * sizeof(unsigned long))

static bool isset(const fd_set *s, int fd)
{
	return s && (((const unsigned long *)s)[fd / WBITS] >> (fd % WBITS) & 1);
}

/* Requests for every fd in the sets below nfds; returns their count. */
static int select_reqs(int nfds, fd_set *r, fd_set *w, fd_set *e,
		       struct rt_pollreq *rq)
{
	int n = 0;
	for (int fd = 0; fd < nfds; fd++) {
		int m = (isset(r, fd) || isset(e, fd) ? RT_POLL_R : 0) |
			(isset(w, fd) ? RT_POLL_W : 0);
		if (!m)
			continue;
		rq[n].fd = fd;
		rq[n].modes = m;
		rt_netpoll_token(fd, &rq[n].tok);
		n++;
	}
	return n;
}

/* One zero-timeout pselect on copies; on success the results replace
 * the caller's sets (on error they are left alone, as the kernel does). */
static int select_check(int nfds, fd_set **sets, const sigset_t *mask)
{
	static const struct timespec zero = {0, 0};
	size_t words = ((size_t)nfds + WBITS - 1) / WBITS;
	size_t bytes = words * sizeof(unsigned long);
	unsigned long stack[3][FD_SETSIZE / WBITS], *buf = stack[0];
	if (words > FD_SETSIZE / WBITS && !(buf = malloc(3 * bytes))) {
		errno = ENOMEM;
		return -1;
	}
	fd_set *copy[3];
	for (int i = 0; i < 3; i++) {
		copy[i] = sets[i] ? (fd_set *)(buf + i * words) : NULL;
		if (sets[i])
			memcpy(copy[i], sets[i], bytes);
	}
	int r = real.pselect(nfds, copy[0], copy[1], copy[2], &zero, mask);
	for (int i = 0; r > 0 && i < 3; i++)
		if (sets[i])
			memcpy(sets[i], copy[i], bytes);
	if (buf != stack[0])
		free(buf);
	return r;
}

static int select_wait(int nfds, fd_set **sets, int64_t dl);

static int select_impl(int nfds, fd_set **sets, int64_t dl,
		       const sigset_t *mask)
{
	shim_testcancel();
	uint64_t oldmask = mask_enter(mask);
	int r = select_wait(nfds, sets, dl);
	mask_leave(mask, oldmask);
	return r;
}

static int select_wait(int nfds, fd_set **sets, int64_t dl)
{
	const sigset_t *mask = NULL;
	struct rt_pollreq stack[64], *rq = stack;
	if (nfds > 64 && !(rq = malloc((size_t)nfds * sizeof *rq))) {
		errno = ENOMEM;
		return -1;
	}
	int r;
	for (;;) {
		int n = select_reqs(nfds, sets[0], sets[1], sets[2], rq);
		r = select_check(nfds, sets, mask);
		if (r != 0 || expired(dl))
			break;
		int e = SHIM_INTR(rt_netpoll_wait_many(rq, n, dl));
		if (e == ETIMEDOUT)
			break;
		if (e == EINTR && poll_intr()) {
			r = -1;
			goto out; /* sets left alone, as the kernel does */
		}
	}
	if (r == 0) /* timed out: nothing is ready */
		for (int i = 0; i < 3; i++)
			if (sets[i])
				memset(sets[i], 0, ((size_t)nfds + WBITS - 1) /
						       WBITS * sizeof(unsigned long));
out:
	if (rq != stack)
		free(rq);
	return r;
}

EXPORT int select(int nfds, fd_set *rd, fd_set *wr, fd_set *ex,
		  struct timeval *tv)
{
	shim_check();
	if (nfds < 0 || (tv && (tv->tv_sec < 0 || tv->tv_usec < 0)) ||
	    (tv && !tv->tv_sec && !tv->tv_usec))
		return real.select(nfds, rd, wr, ex, tv);
	int64_t dl = -1;
	if (tv)
		dl = rt_nanotime() + (int64_t)tv->tv_sec * 1000000000 +
		     (int64_t)tv->tv_usec * 1000;
	fd_set *sets[3] = {rd, wr, ex};
	int r = select_impl(nfds, sets, dl, NULL);
	if (tv && r >= 0) { /* Linux reports the unslept time */
		struct timespec ts = {0, 0};
		remaining(dl, &ts);
		tv->tv_sec = ts.tv_sec;
		tv->tv_usec = ts.tv_nsec / 1000;
	}
	return r;
}

EXPORT int __select(int nfds, fd_set *rd, fd_set *wr, fd_set *ex,
		    struct timeval *tv)
{
	return select(nfds, rd, wr, ex, tv);
}

EXPORT int pselect(int nfds, fd_set *rd, fd_set *wr, fd_set *ex,
		   const struct timespec *tmo, const sigset_t *mask)
{
	shim_check();
	if (nfds < 0 || (tmo && !shim_ts_valid(tmo)) ||
	    (tmo && !tmo->tv_sec && !tmo->tv_nsec))
		return real.pselect(nfds, rd, wr, ex, tmo, mask);
	fd_set *sets[3] = {rd, wr, ex};
	return select_impl(nfds, sets, ts_deadline(tmo), mask);
}

/* ---- epoll ----------------------------------------------------------------- */

static int epoll_wait_g(int epfd, struct epoll_event *ev, int max,
			int64_t dl);

static int epoll_impl(int epfd, struct epoll_event *ev, int max, int64_t dl,
		      const sigset_t *mask)
{
	shim_testcancel();
	uint64_t oldmask = mask_enter(mask);
	int r = epoll_wait_g(epfd, ev, max, dl);
	mask_leave(mask, oldmask);
	return r;
}

static int epoll_wait_g(int epfd, struct epoll_event *ev, int max, int64_t dl)
{
	const sigset_t *mask = NULL;
	struct timespec ts;
	for (;;) {
		struct rt_polltok t;
		rt_netpoll_token(epfd, &t);
		int r = real.epoll_pwait(epfd, ev, max, 0, mask);
		if (r != 0 || expired(dl))
			return r;
		int e = SHIM_INTR(rt_netpoll_wait(epfd, RT_POLL_R, &t, dl));
		if (e == ETIMEDOUT)
			return 0;
		if (e == EINTR) {
			if (poll_intr())
				return -1;
			continue;
		}
		if (e && e != EBADF) { /* cannot wait here: block the M */
			struct timespec *rem = remaining(dl, &ts);
			int ms = rem ? (int)(rem->tv_sec * 1000 +
					     (rem->tv_nsec + 999999) / 1000000)
				     : -1;
			return real.epoll_pwait(epfd, ev, max, ms, mask);
		}
	}
}

EXPORT int epoll_pwait(int epfd, struct epoll_event *ev, int max, int timeout,
		       const sigset_t *mask)
{
	shim_check();
	if (timeout == 0 || max <= 0)
		return real.epoll_pwait(epfd, ev, max, timeout, mask);
	return epoll_impl(epfd, ev, max, ms_deadline(timeout), mask);
}

EXPORT int epoll_wait(int epfd, struct epoll_event *ev, int max, int timeout)
{
	return epoll_pwait(epfd, ev, max, timeout, NULL);
}

EXPORT int epoll_pwait2(int epfd, struct epoll_event *ev, int max,
			const struct timespec *tmo, const sigset_t *mask)
{
	shim_check();
	if (!real.epoll_pwait2) {
		errno = ENOSYS;
		return -1;
	}
	if (max <= 0 || (tmo && !shim_ts_valid(tmo)) ||
	    (tmo && !tmo->tv_sec && !tmo->tv_nsec))
		return real.epoll_pwait2(epfd, ev, max, tmo, mask);
	return epoll_impl(epfd, ev, max, ts_deadline(tmo), mask);
}
