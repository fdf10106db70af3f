/*
 * rt_netpoll.h - the netpoller API that shim/ calls (runtime/netpoll.c).
 *
 * A G that got EAGAIN from a non-blocking attempt parks here until the fd
 * may be ready.  The protocol, in the caller:
 *
 *	struct rt_polltok t;
 *	for (;;) {
 *		rt_netpoll_token(fd, &t);       // BEFORE the attempt
 *		r = attempt();                  // non-blocking
 *		if (r != EAGAIN) break;
 *		e = rt_netpoll_wait(fd, RT_POLL_R, &t, deadline);
 *		if (e) return e;                // ETIMEDOUT, EBADF, EPERM
 *	}
 *
 * The token records the fd's generation and its per-direction readiness
 * counters; rt_netpoll_wait does not park when readiness was reported
 * after the token was taken (edge-triggered epoll reports each change
 * once, so an edge between the attempt and the park must not be lost).
 *
 * Units: deadlines are absolute CLOCK_MONOTONIC ns, -1 for none.  Errors
 * are positive errno values (never -1/errno); errno is never touched.
 * Thread-safety: every function may be called from any G concurrently;
 * none from g0 or a signal handler.
 */
#ifndef GREENRUN_RT_NETPOLL_H
#define GREENRUN_RT_NETPOLL_H

#include <stdbool.h>
#include <stdint.h>

/* Directions (bit mask). */
#define RT_POLL_R 1 /* readable, or EOF/hang-up/error/priority data */
#define RT_POLL_W 2 /* writable, or hang-up/error */

/* Snapshot of an fd's poll state; plain value, copy freely. */
struct rt_polltok {
	uint32_t gen;  /* fd generation: changes on close/dup2 over/reuse */
	uint32_t rseq; /* read readiness reports so far */
	uint32_t wseq; /* write readiness reports so far */
};

/* Fill *t with fd's current state.  Cheap (two table loads and three
 * atomic loads, no lock, no syscall); call it before every attempt.  An
 * fd outside the table (>= 2^20) gets a token that makes waits fail with
 * EPERM. */
void rt_netpoll_token(int fd, struct rt_polltok *t);

/* Park the calling G until fd reports readiness in one of `modes`
 * (RT_POLL_R/RT_POLL_W) after the token t was taken, or until deadline.
 * Registers fd with the netpoller's epoll on first use.
 * Returns 0 (readiness was reported: retry the call; it may still say
 * EAGAIN when another G took the data), ETIMEDOUT (deadline passed),
 * EBADF (fd was closed or replaced since t), EPERM (fd cannot be polled:
 * a regular file, a device without poll, fd too large), or another errno
 * from epoll_ctl (ENOMEM, ENOSPC). */
int rt_netpoll_wait(int fd, int modes, const struct rt_polltok *t,
		    int64_t deadline);

/* Skipping the attempt that would say EAGAIN.  A blocking read on a
 * connected socket mostly finds the data gone: the last read took it all.
 * When a read attempt begun after token t returned less than asked, the
 * caller reports it with rt_netpoll_set_drained(fd, t): the receive
 * queue was empty at that moment.  Later, rt_netpoll_drained(fd, t2)
 * with a fresh token is true while no read readiness has been reported
 * since t (same generation and counter): data that arrived after the
 * emptying raised an edge the netpoller has not collected yet, so the
 * caller may park with t2 at once and be woken by that edge.  Only for
 * callers that will park (a program-non-blocking read must make its
 * call: nobody collects edges for it) and only for TCP, where a short
 * read does mean an empty queue, except at an urgent mark or at the end
 * of the stream (a read that takes the last data and the FIN is short,
 * and the next returns 0 with no edge to announce it): an fd that ever
 * reported priority data, a hang-up or an error (EPOLLPRI, EPOLLRDHUP,
 * EPOLLHUP, EPOLLERR) is never "drained" again.  A
 * Unix socket's short read can stop at passed fds or a change of
 * sender: not for them.  Requires the fd registered (a G parked on it
 * before).  Thread-safe; a hint kept per fd, any G may set or read it. */
void rt_netpoll_set_drained(int fd, const struct rt_polltok *t);
bool rt_netpoll_drained(int fd, const struct rt_polltok *t);

/* One fd of a multi-fd wait (poll/select). */
struct rt_pollreq {
	int fd;                /* < 0: ignored */
	int modes;             /* RT_POLL_R | RT_POLL_W; 0: ignored */
	struct rt_polltok tok; /* taken before the caller's readiness check */
};

/* Park until any of the n requests reports readiness after its token, or
 * one of their fds is closed, or the deadline passes.  Fds that cannot
 * be polled are skipped (poll(2) reports them ready anyway, so the
 * caller's own check has already returned).  Returns 0 (something
 * happened: re-check) or ETIMEDOUT; ENOMEM when the waiter records
 * cannot be allocated (n > 64). */
int rt_netpoll_wait_many(struct rt_pollreq *r, int n, int64_t deadline);

/* fd is about to be closed, or replaced by dup2/dup3: Gs parked on it
 * wake and get EBADF, its epoll registration is removed (call this while
 * fd still refers to the old file), and later readiness of the old file
 * is never reported for this fd number. */
void rt_netpoll_close(int fd);

/* The netpoller's own fds (epoll instance, wake-up eventfd) sit near the
 * top of the fd table.  owns_fd: fd is one of them (the shim hides them:
 * close gives EBADF).  evacuate: the program dup2s onto that number, so
 * move ours to another fd first.  Not thread-safe against a concurrent
 * blocking poll; called from close/dup paths. */
bool rt_netpoll_owns_fd(int fd);
void rt_netpoll_evacuate(int fd);

/* fd was just created by a call we saw (socket, accept, pipe, ...): it
 * may reuse the number of an fd that was closed behind our back (by libc
 * itself); forget any state of that old fd.  Cheap when there is none. */
void rt_netpoll_fdnew(int fd);

#endif
