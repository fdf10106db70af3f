/*
 * io.c - read, write, readv, writev, sendfile, splice (and the fortify
 * and double-underscore names programs link against): on a pollable fd
 * the calling G parks in the netpoller instead of blocking its M.
 *
 * Blocking semantics kept: a read returns what is available (at least one
 * byte, or 0 at EOF); a blocking write/writev/sendfile on a stream moves
 * everything before returning, as the kernel does, parking between partial
 * transfers; a partial transfer cut short by an error or a timeout
 * returns the count moved so far.  Writes of up to PIPE_BUF bytes to a
 * pipe stay atomic (RWF_NOWAIT is all-or-nothing for them).
 *
 * pread/pwrite and preadv/pwritev are not interposed: on a pipe, socket or
 * tty they fail with ESPIPE at once, so they never block on anything the
 * netpoller could wait for; on regular files they block the M (syscall
 * handoff is a later issue).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "fdio.h"
#include "shim.h"

extern void __chk_fail(void) __attribute__((noreturn));

struct rw {
	struct shim_op op;
	struct iovec *iov;
	int cnt;
};

#define RW(fd, kind, m, fn) {.op = {fd, m, kind, -1, -2, fn}}

static ssize_t read_call(struct shim_op *o, bool nowait)
{
	struct rw *a = (struct rw *)o;
	if (!nowait)
		return real.readv(o->fd, a->iov, a->cnt);
	if (o->kind == FDK_SOCK) {
		if (a->cnt < 0 || a->cnt > IOV_MAX) { /* readv's error, not */
			errno = EINVAL;               /* recvmsg's EMSGSIZE */
			return -1;
		}
		struct msghdr m = {.msg_iov = a->iov, .msg_iovlen = a->cnt};
		return real.recvmsg(o->fd, &m, MSG_DONTWAIT);
	}
	return preadv2(o->fd, a->iov, a->cnt, -1, RWF_NOWAIT);
}

static ssize_t write_call(struct shim_op *o, bool nowait)
{
	struct rw *a = (struct rw *)o;
	if (!nowait)
		return real.writev(o->fd, a->iov, a->cnt);
	if (o->kind == FDK_SOCK) {
		if (a->cnt < 0 || a->cnt > IOV_MAX) { /* writev's error */
			errno = EINVAL;
			return -1;
		}
		struct msghdr m = {.msg_iov = a->iov, .msg_iovlen = a->cnt};
		return real.sendmsg(o->fd, &m, MSG_DONTWAIT);
	}
	return pwritev2(o->fd, a->iov, a->cnt, -1, RWF_NOWAIT);
}

EXPORT ssize_t readv(int fd, const struct iovec *iov, int cnt)
{
	shim_check();
	struct shim_fd f = shim_fd_get(fd);
	if (f.kind == FDK_PLAIN)
		return SHIM_SYSCALL(real.readv(fd, iov, cnt));
	struct rw a = RW(fd, f.kind, RT_POLL_R, read_call);
	a.iov = (struct iovec *)iov;
	a.cnt = cnt;
	if (f.tcp) {
		a.op.tcpread = true;
		a.op.wiov = iov;
		a.op.wcnt = cnt;
	}
	return shim_io(&a.op);
}

EXPORT ssize_t read(int fd, void *buf, size_t n)
{
	shim_check();
	struct shim_fd f = shim_fd_get(fd);
	if (f.kind == FDK_PLAIN)
		return SHIM_SYSCALL(real.read(fd, buf, n));
	struct iovec v = {buf, n};
	return readv(fd, &v, 1);
}

EXPORT ssize_t __read(int fd, void *buf, size_t n) { return read(fd, buf, n); }

EXPORT ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen)
{
	if (n > buflen)
		__chk_fail();
	return read(fd, buf, n);
}

/* Drop `n` bytes from the front of iov[0..*cnt). */
static void iov_advance(struct iovec **iov, int *cnt, size_t n)
{
	while (*cnt > 0 && n >= (*iov)->iov_len) {
		n -= (*iov)->iov_len;
		(*iov)++;
		(*cnt)--;
	}
	if (*cnt > 0) {
		(*iov)->iov_base = (char *)(*iov)->iov_base + n;
		(*iov)->iov_len -= n;
	}
}

/* Blocking write of the whole vector, parking between partial writes.
 * Works on a private copy of iov once a write was partial.  total: the
 * vector's bytes, or (size_t)-1 to sum them once a write succeeded (the
 * kernel has then checked the array: a bad pointer got EFAULT, where
 * summing first crashed). */
static ssize_t write_all(struct rw *a, size_t total)
{
	int saved = errno;
	struct iovec small[16], *copy = NULL;
	size_t done = 0;
	ssize_t r;
	for (;;) {
		r = shim_io(&a->op);
		if (r < 0)
			break;
		if (total == (size_t)-1) {
			total = 0;
			for (int i = 0; i < a->cnt; i++)
				total += a->iov[i].iov_len;
		}
		done += (size_t)r;
		if (done >= total || r == 0 || a->op.kind == FDK_PLAIN ||
		    a->op.kind == FDK_POLLFIRST)
			break;
		if (a->op.nonblock < 0 && shim_fd_user_nonblock(a->op.fd))
			break;
		a->op.nonblock = 0;
		if (!copy) {
			copy = a->cnt <= 16 ? small
					    : malloc(a->cnt * sizeof *copy);
			if (!copy)
				break;
			memcpy(copy, a->iov, a->cnt * sizeof *copy);
			a->iov = copy;
		}
		iov_advance(&a->iov, &a->cnt, (size_t)r);
	}
	if (copy && copy != small)
		free(copy);
	if (r >= 0 || done > 0) {
		errno = saved;
		return (ssize_t)done;
	}
	return r;
}

EXPORT ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
	shim_check();
	struct shim_fd f = shim_fd_get(fd);
	if (f.kind == FDK_PLAIN || cnt <= 0)
		return SHIM_SYSCALL(real.writev(fd, iov, cnt));
	struct rw a = RW(fd, f.kind, RT_POLL_W, write_call);
	a.iov = (struct iovec *)iov;
	a.cnt = cnt;
	return write_all(&a, (size_t)-1);
}

EXPORT ssize_t write(int fd, const void *buf, size_t n)
{
	shim_check();
	struct shim_fd f = shim_fd_get(fd);
	if (f.kind == FDK_PLAIN)
		return SHIM_SYSCALL(real.write(fd, buf, n));
	struct iovec v = {(void *)buf, n};
	struct rw a = RW(fd, f.kind, RT_POLL_W, write_call);
	a.iov = &v;
	a.cnt = 1;
	return write_all(&a, n);
}

EXPORT ssize_t __write(int fd, const void *buf, size_t n)
{
	return write(fd, buf, n);
}

/* ---- sendfile and splice ---------------------------------------------------
 * Neither has a per-call non-blocking flag for a socket.  For the duration
 * of a blocking call the socket (or pipe) side is made O_NONBLOCK and
 * restored afterwards; another process sharing that file could observe
 * the flag during the call.  SO_SNDTIMEO is honoured for sendfile. */

struct sf {
	struct shim_op op;
	int in;
	off_t *off;
	size_t count;
};

static ssize_t sendfile_call(struct shim_op *o, bool nowait)
{
	struct sf *a = (struct sf *)o;
	return real.sendfile(o->fd, a->in, a->off, a->count);
}

/* Set O_NONBLOCK on fd; returns the old flags, or -1 when the program
 * already made it non-blocking (or on error): then do the real call. */
static int temp_nonblock(int fd)
{
	int fl = real.fcntl(fd, F_GETFL);
	if (fl < 0 || (fl & O_NONBLOCK) || shim_fd_get(fd).nbunder)
		return -1;
	return real.fcntl(fd, F_SETFL, fl | O_NONBLOCK) == 0 ? fl : -1;
}

static void restore_flags(int fd, int fl)
{
	int saved = errno;
	real.fcntl(fd, F_SETFL, fl);
	errno = saved;
}

EXPORT ssize_t sendfile(int out, int in, off_t *off, size_t count)
{
	shim_check();
	struct shim_fd f = shim_fd_get(out);
	int fl;
	if (f.kind == FDK_PLAIN || (fl = temp_nonblock(out)) < 0)
		return SHIM_SYSCALL(real.sendfile(out, in, off, count));
	int saved = errno;
	struct sf a = {.op = {out, RT_POLL_W, f.kind == FDK_SOCK ? FDK_SOCK
							   : FDK_NOWAIT,
			      0, -2, sendfile_call},
		       .in = in, .off = off};
	size_t done = 0;
	ssize_t r = 0;
	while (done < count) {
		a.count = count - done;
		r = shim_io(&a.op);
		if (r <= 0)
			break;
		done += (size_t)r;
	}
	restore_flags(out, fl);
	if (r >= 0 || done > 0) {
		errno = saved;
		return (ssize_t)done;
	}
	return r;
}

EXPORT ssize_t sendfile64(int out, int in, off_t *off, size_t count)
{
	return sendfile(out, in, off, count);
}

/* splice: SPLICE_F_NONBLOCK covers the pipe side, a temporary O_NONBLOCK
 * the socket side; on EAGAIN wait for either side. */
static ssize_t splice_wait(int in, loff_t *oin, int out, loff_t *oout,
			   size_t len, unsigned flags)
{
	int saved = errno;
	for (;;) {
		struct rt_pollreq rq[2] = {{.fd = in, .modes = RT_POLL_R},
					   {.fd = out, .modes = RT_POLL_W}};
		rt_netpoll_token(in, &rq[0].tok);
		rt_netpoll_token(out, &rq[1].tok);
		ssize_t r = real.splice(in, oin, out, oout, len,
					flags | SPLICE_F_NONBLOCK);
		if (r >= 0) {
			errno = saved;
			return r;
		}
		if (errno != EAGAIN)
			return -1;
		rt_netpoll_wait_many(rq, 2, -1);
	}
}

EXPORT ssize_t splice(int in, loff_t *oin, int out, loff_t *oout, size_t len,
		      unsigned int flags)
{
	shim_check();
	struct shim_fd fi = shim_fd_get(in), fo = shim_fd_get(out);
	if ((flags & SPLICE_F_NONBLOCK) ||
	    (fi.kind == FDK_PLAIN && fo.kind == FDK_PLAIN))
		return real.splice(in, oin, out, oout, len, flags);
	int fli = -1, flo = -1;
	if (fi.kind == FDK_SOCK && (fli = temp_nonblock(in)) < 0)
		return real.splice(in, oin, out, oout, len, flags);
	if (fo.kind == FDK_SOCK && (flo = temp_nonblock(out)) < 0) {
		if (fli >= 0)
			restore_flags(in, fli);
		return real.splice(in, oin, out, oout, len, flags);
	}
	ssize_t r = splice_wait(in, oin, out, oout, len, flags);
	if (fli >= 0)
		restore_flags(in, fli);
	if (flo >= 0)
		restore_flags(out, flo);
	return r;
}
