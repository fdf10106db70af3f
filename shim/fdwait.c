/*
 * fdwait.c - the engine every blocking I/O call on a pollable fd goes
 * through (shim_io), and its helpers.
 *
 *	token; attempt (non-blocking); EAGAIN?
 *	  program asked for non-blocking (MSG_DONTWAIT, O_NONBLOCK) -> EAGAIN
 *	  else park in the netpoller until readiness after the token,
 *	       the socket timeout (-> EAGAIN, as Linux), or close (-> EBADF)
 *	  and try again.
 *
 * The token is taken before the attempt (rt_netpoll.h explains why).  The
 * program's O_NONBLOCK is read with F_GETFL only after an EAGAIN, and the
 * socket timeout with getsockopt only before the first park, so a call
 * that does not block costs exactly its one system call; both are kept
 * in the flag cache (fdio.h) for fds no other process shares, so a call
 * that parks costs its attempts only.  Timeouts count
 * from the first EAGAIN: a call returns EAGAIN no sooner than SO_RCVTIMEO
 * / SO_SNDTIMEO after it started.  A signal handler that runs while the
 * call is parked makes it fail with EINTR, or restarts it (SA_RESTART and
 * no socket timeout), as signal(7) says; a pending cancellation acts.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "fdio.h"
#include "shim.h"

bool shim_fd_user_nonblock(int fd)
{
	struct shim_fd f = shim_fd_get(fd);
	if (f.nbunder)
		return f.user_nb;
	uint32_t gen;
	unsigned c = shim_fdcache_get(fd, &gen);
	if (c & SHIM_FC_NB_KNOWN)
		return c & SHIM_FC_NB;
	int fl = real.fcntl(fd, F_GETFL);
	if (fl < 0)
		return false;
	bool nb = fl & O_NONBLOCK;
	shim_fdcache_add(fd, gen, SHIM_FC_NB_KNOWN | (nb ? SHIM_FC_NB : 0));
	return nb;
}

int64_t shim_sock_deadline(int fd, int mode)
{
	unsigned none = mode == RT_POLL_R ? SHIM_FC_NORCVTMO : SHIM_FC_NOSNDTMO;
	uint32_t gen;
	if (shim_fdcache_get(fd, &gen) & none)
		return -1;
	struct timeval tv;
	socklen_t len = sizeof tv;
	int opt = mode == RT_POLL_R ? SO_RCVTIMEO : SO_SNDTIMEO;
	if (getsockopt(fd, SOL_SOCKET, opt, &tv, &len) != 0)
		return -1;
	if (tv.tv_sec == 0 && tv.tv_usec == 0) {
		shim_fdcache_add(fd, gen, none);
		return -1;
	}
	return rt_nanotime() + (int64_t)tv.tv_sec * 1000000000 +
	       (int64_t)tv.tv_usec * 1000;
}

bool shim_fd_ready(int fd, int mode)
{
	struct pollfd p = {.fd = fd,
			   .events = mode == RT_POLL_R
					 ? POLLIN | POLLPRI | POLLRDHUP
					 : POLLOUT};
	return real.poll(&p, 1, 0) != 0;
}

/* The record was wrong (the fd was closed and reused behind our back):
 * classify again.  Returns the new kind. */
static int reclassify(int fd)
{
	shim_fd_put(fd, (struct shim_fd){0});
	return shim_fd_get(fd).kind;
}

static ssize_t attempt(struct shim_op *op)
{
	if (op->kind != FDK_POLLFIRST)
		return op->call(op, true);
	if (shim_fd_ready(op->fd, op->mode))
		return op->call(op, false);
	errno = EAGAIN;
	return -1;
}

/* After an EAGAIN of a blocking call: park.  0: try again. */
static int park(struct shim_op *op, const struct rt_polltok *t)
{
	if (op->deadline == -2)
		op->deadline = op->kind == FDK_SOCK
				   ? shim_sock_deadline(op->fd, op->mode)
				   : -1;
	return SHIM_INTR(rt_netpoll_wait(op->fd, op->mode, t, op->deadline));
}

ssize_t shim_io(struct shim_op *op)
{
	int saved = errno;
	shim_testcancel();
	for (;;) {
		struct rt_polltok t;
		rt_netpoll_token(op->fd, &t);
		ssize_t r;
		if (op->tcpread && op->nonblock != 1 &&
		    rt_netpoll_drained(op->fd, &t) &&
		    !(op->nonblock < 0 && shim_fd_user_nonblock(op->fd))) {
			errno = EAGAIN; /* nothing came since it was emptied */
			r = -1;
		} else {
			r = attempt(op);
		}
		if (r >= 0) {
			if (op->tcpread && r > 0) {
				size_t want = op->want;
				for (int i = 0; op->wiov && i < op->wcnt; i++)
					want += op->wiov[i].iov_len;
				if ((size_t)r < want)
					rt_netpoll_set_drained(op->fd, &t);
			}
			errno = saved;
			return r;
		}
		int e = errno;
		if ((e == EOPNOTSUPP && op->kind == FDK_NOWAIT) ||
		    (e == ENOTSOCK && op->kind == FDK_SOCK)) {
			int k = e == EOPNOTSUPP ? FDK_POLLFIRST : reclassify(op->fd);
			if (k == FDK_POLLFIRST)
				shim_fd_put(op->fd, (struct shim_fd){.kind = FDK_POLLFIRST});
			if (k == op->kind)
				return -1;
			op->kind = k;
			if (k == FDK_PLAIN)
				return op->call(op, false);
			continue;
		}
		if (e != EAGAIN)
			return -1;
		if (op->nonblock == 1 ||
		    (op->nonblock < 0 && shim_fd_user_nonblock(op->fd))) {
			errno = EAGAIN;
			return -1;
		}
		e = park(op, &t);
		if (e == 0)
			continue;
		/* signal(7): a socket call with a timeout set is never
		 * restarted; others are with SA_RESTART */
		if (e == EINTR && shim_intr_restart(op->deadline < 0))
			continue;
		if (e == EPERM) { /* not pollable after all */
			shim_fd_put(op->fd, (struct shim_fd){.kind = FDK_PLAIN});
			errno = saved;
			return op->call(op, false);
		}
		errno = e == ETIMEDOUT ? EAGAIN : e;
		return -1;
	}
}
