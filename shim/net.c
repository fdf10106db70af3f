/*
 * net.c - the socket calls: socket, socketpair, accept, accept4, connect,
 * recv, recvfrom, recvmsg, recvmmsg, send, sendto, sendmsg, sendmmsg (and
 * the fortify / double-underscore names).  On a blocking socket the
 * calling G parks in the netpoller; the socket itself stays blocking (we
 * add MSG_DONTWAIT per call, see fd.c), except a listening socket created
 * here, which is non-blocking underneath from its first accept.
 *
 * Linux semantics kept:
 *   - SO_RCVTIMEO / SO_SNDTIMEO: EAGAIN after the timeout (accept uses the
 *     receive timeout, connect the send timeout and then EINPROGRESS);
 *   - a blocking send/sendto/sendmsg on a stream moves everything;
 *     recv/recvfrom with MSG_WAITALL on a stream fills the buffer (or
 *     stops at EOF/error/timeout, returning the bytes so far);
 *   - recvmmsg waits for vlen messages unless MSG_WAITFORONE (its timeout
 *     is checked after each message, as the kernel does);
 *   - connect: started non-blocking, then wait writable, then SO_ERROR
 *     (ECONNREFUSED, ETIMEDOUT, ...).  An AF_UNIX connect to a listener
 *     with a full backlog (EAGAIN when non-blocking) is retried every
 *     millisecond, since such sockets report no readiness for it.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>

#include "fdio.h"
#include "shim.h"

extern void __chk_fail(void) __attribute__((noreturn));

/* ---- creators --------------------------------------------------------------- */

EXPORT int socket(int domain, int type, int proto)
{
	shim_check();
	int fd = real.socket(domain, type, proto);
	if (fd >= 0) {
		shim_fd_created(fd, FDK_SOCK);
		if ((domain == AF_INET || domain == AF_INET6) &&
		    (type & 0xf) == SOCK_STREAM &&
		    (proto == 0 || proto == IPPROTO_TCP))
			shim_fd_set_tcp(fd);
	}
	return fd;
}

EXPORT int socketpair(int domain, int type, int proto, int sv[2])
{
	shim_check();
	int r = real.socketpair(domain, type, proto, sv);
	if (r == 0) {
		shim_fd_created(sv[0], FDK_SOCK);
		shim_fd_created(sv[1], FDK_SOCK);
	}
	return r;
}

/* setsockopt: only to learn that a socket timeout changed (the flag
 * cache, fdio.h); the option itself is the kernel's business. */
EXPORT int setsockopt(int fd, int level, int name, const void *val,
		      socklen_t len)
{
	shim_check();
	int r = real.setsockopt(fd, level, name, val, len);
	if (level == SOL_SOCKET &&
	    (name == SO_RCVTIMEO_OLD || name == SO_SNDTIMEO_OLD ||
	     name == SO_RCVTIMEO_NEW || name == SO_SNDTIMEO_NEW))
		shim_fdcache_invalidate(); /* after the change */
	return r;
}

/* The files a message carries to another process (SCM_RIGHTS) are shared
 * with it from now on: never cache their flags (fdio.h).  Every fd is
 * marked, not only those sent: a dup of a sent fd names the same file
 * (which fds do, only kcmp could tell), and such messages are rare. */
static void mark_passed(const struct msghdr *m)
{
	if (!m || !m->msg_control || m->msg_controllen < sizeof(struct cmsghdr))
		return;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c;
	     c = CMSG_NXTHDR((struct msghdr *)m, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			shim_fd_mark_shared_all();
			return;
		}
	}
}

/* ---- accept ------------------------------------------------------------------ */

struct acc {
	struct shim_op op;
	struct sockaddr *addr;
	socklen_t *alen;
	int flags;
};

static ssize_t accept_call(struct shim_op *o, bool nowait)
{
	struct acc *a = (struct acc *)o;
	return real.accept4(o->fd, a->addr, a->alen, a->flags);
}

EXPORT int accept4(int fd, struct sockaddr *addr, socklen_t *alen, int flags)
{
	shim_check();
	struct shim_fd f = shim_fd_get(fd);
	if (f.kind != FDK_SOCK)
		return real.accept4(fd, addr, alen, flags);
	shim_fd_nbunder(fd, &f);
	/* A listener we may not make non-blocking: poll, then accept. */
	struct acc a = {.op = {fd, RT_POLL_R,
			       f.nbunder ? FDK_SOCK : FDK_POLLFIRST,
			       f.nbunder ? f.user_nb : -1, -2, accept_call},
			.addr = addr, .alen = alen, .flags = flags};
	if (!f.nbunder)
		a.op.deadline = shim_sock_deadline(fd, RT_POLL_R);
	int r = (int)shim_io(&a.op);
	if (r >= 0) {
		shim_fd_created(r, FDK_SOCK);
		if (f.tcp)
			shim_fd_set_tcp(r);
	}
	return r;
}

/* A socket of ours that starts listening gets its O_NONBLOCK underneath
 * now, before any fork can share it (fd.c). */
/* GREENRUN_LISTEN_BACKLOG: the smallest listen backlog (0, the default:
 * the program's own).  A thread-per-connection server's accept loop runs
 * when greenrun schedules it, not when the kernel would wake its OS
 * thread; with a tiny backlog (http.server asks for 5) connection bursts
 * then overflow the queue a little more often than natively, and clients
 * see dropped SYNs (connects that take 1-3 s).  Go's net package always
 * asks for net.core.somaxconn; POSIX makes the backlog a hint.  Not the
 * default: a program may rely on a small backlog (a full queue is how a
 * connect timeout is tested). */
static int min_backlog(void)
{
	static int v = -1;
	if (v < 0)
		v = (int)rt_env_int("GREENRUN_LISTEN_BACKLOG", 0, 0, 1 << 20);
	return v;
}

EXPORT int listen(int fd, int backlog)
{
	shim_check();
	if (backlog < min_backlog())
		backlog = min_backlog();
	int r = real.listen(fd, backlog);
	if (r == 0) {
		struct shim_fd f = shim_fd_get(fd);
		if (f.kind == FDK_SOCK)
			shim_fd_nbunder(fd, &f);
	}
	return r;
}

EXPORT int accept(int fd, struct sockaddr *addr, socklen_t *alen)
{
	return accept4(fd, addr, alen, 0);
}

/* ---- connect ----------------------------------------------------------------- */

static int sock_family(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
		return -1;
	return ss.ss_family;
}

/* Non-blocking connect said EINPROGRESS: wait writable, then collect the
 * outcome with a second connect. */
static int connect_finish(int fd, const struct sockaddr *sa, socklen_t salen)
{
	int64_t dl = shim_sock_deadline(fd, RT_POLL_W);
	for (;;) {
		struct rt_polltok t;
		rt_netpoll_token(fd, &t);
		if (shim_fd_ready(fd, RT_POLL_W))
			break;
		int e = SHIM_INTR(rt_netpoll_wait(fd, RT_POLL_W, &t, dl));
		if (e == ETIMEDOUT)
			return EINPROGRESS; /* as Linux with SO_SNDTIMEO */
		/* never restarted: the connection goes on in the
		 * background, as natively (a new connect: EALREADY) */
		if (e == EINTR && shim_intr_restart(false))
			continue;
		if (e && e != EPERM)
			return e;
	}
	/* The outcome, collected as the kernel wants it, by connecting
	 * again: 0 once connected (the socket is then "connected", and the
	 * next connect says EISCONN), else the pending error (the socket is
	 * then unconnected: a new connect tries afresh).  Reading SO_ERROR
	 * instead left the socket "connecting": the next connect returned 0
	 * again, or ECONNABORTED where natively ECONNREFUSED. */
	if (real.connect(fd, sa, salen) == 0 || errno == EISCONN)
		return 0;
	return errno;
}

/* AF_UNIX, backlog full: no readiness event exists; retry each ms, each
 * attempt non-blocking (fl: the program's flags). */
static int connect_unix_retry(int fd, const struct sockaddr *sa,
			      socklen_t len, int fl)
{
	int64_t dl = shim_sock_deadline(fd, RT_POLL_W);
	for (;;) {
		rt_sleep_until(rt_nanotime() + 1000000);
		real.fcntl(fd, F_SETFL, fl | O_NONBLOCK);
		int r = real.connect(fd, sa, len), e = errno;
		real.fcntl(fd, F_SETFL, fl);
		if (r == 0)
			return 0;
		if (e == EINPROGRESS)
			return connect_finish(fd, sa, len);
		if (e != EAGAIN)
			return e;
		if (dl >= 0 && rt_nanotime() >= dl)
			return EAGAIN;
	}
}

EXPORT int connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	shim_check();
	shim_testcancel();
	struct shim_fd f = shim_fd_get(fd);
	int fl = f.kind == FDK_SOCK ? real.fcntl(fd, F_GETFL) : -1;
	if (fl < 0 || (fl & O_NONBLOCK))
		return real.connect(fd, sa, len);
	int saved = errno, err = 0;
	real.fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	if (real.connect(fd, sa, len) != 0)
		err = errno;
	real.fcntl(fd, F_SETFL, fl);
	if (err == EAGAIN && sock_family(fd) == AF_UNIX) {
		err = connect_unix_retry(fd, sa, len, fl);
	} else if (err == EINPROGRESS) {
		err = connect_finish(fd, sa, len);
	}
	errno = err ? err : saved;
	return err ? -1 : 0;
}

EXPORT int __connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	return connect(fd, sa, len);
}

/* ---- receive ----------------------------------------------------------------- */

struct xfer {
	struct shim_op op;
	void *buf;
	size_t len;
	int flags;
	struct sockaddr *addr;
	socklen_t *alen;
	struct msghdr *msg;
	struct mmsghdr *vec;
	unsigned vlen;
	struct timespec *tmo;
};

#define XFER(fd, m, fl, fn)                                                    \
	{.op = {fd, m, FDK_SOCK, ((fl) & MSG_DONTWAIT) ? 1 : -1, -2, fn},      \
	 .flags = fl}
#define DONTWAIT(nowait) ((nowait) ? MSG_DONTWAIT : 0)

static ssize_t recvfrom_call(struct shim_op *o, bool nowait)
{
	struct xfer *x = (struct xfer *)o;
	return real.recvfrom(o->fd, x->buf, x->len, x->flags | DONTWAIT(nowait),
			     x->addr, x->alen);
}

static bool is_stream(int fd)
{
	int type = 0;
	socklen_t len = sizeof type;
	getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len);
	return type == SOCK_STREAM;
}

/* MSG_WAITALL on a stream: keep receiving until len, EOF or error. */
static ssize_t recv_waitall(struct xfer *x, ssize_t r)
{
	int saved = errno;
	char *base = x->buf;
	size_t done = (size_t)r, len = x->len;
	while (done < len && is_stream(x->op.fd)) {
		x->buf = base + done;
		x->len = len - done;
		r = shim_io(&x->op);
		if (r <= 0)
			break;
		done += (size_t)r;
	}
	errno = saved;
	return (ssize_t)done;
}

EXPORT ssize_t recvfrom(int fd, void *buf, size_t n, int flags,
			struct sockaddr *addr, socklen_t *alen)
{
	shim_check();
	struct shim_fd f = shim_fd_get(fd);
	if (f.kind != FDK_SOCK)
		return real.recvfrom(fd, buf, n, flags, addr, alen);
	struct xfer x = XFER(fd, RT_POLL_R, flags, recvfrom_call);
	x.buf = buf;
	x.len = n;
	x.op.tcpread = f.tcp && flags == 0;
	x.op.want = n;
	x.addr = addr;
	x.alen = alen;
	ssize_t r = shim_io(&x.op);
	if (r > 0 && (size_t)r < n && (flags & MSG_WAITALL) &&
	    !(flags & MSG_DONTWAIT))
		r = recv_waitall(&x, r);
	return r;
}

EXPORT ssize_t recv(int fd, void *buf, size_t n, int flags)
{
	return recvfrom(fd, buf, n, flags, NULL, NULL);
}

EXPORT ssize_t __recv(int fd, void *buf, size_t n, int flags)
{
	return recvfrom(fd, buf, n, flags, NULL, NULL);
}

EXPORT ssize_t __recv_chk(int fd, void *buf, size_t n, size_t buflen,
			  int flags)
{
	if (n > buflen)
		__chk_fail();
	return recvfrom(fd, buf, n, flags, NULL, NULL);
}

EXPORT ssize_t __recvfrom_chk(int fd, void *buf, size_t n, size_t buflen,
			      int flags, struct sockaddr *addr,
			      socklen_t *alen)
{
	if (n > buflen)
		__chk_fail();
	return recvfrom(fd, buf, n, flags, addr, alen);
}

static ssize_t recvmsg_call(struct shim_op *o, bool nowait)
{
	struct xfer *x = (struct xfer *)o;
	return real.recvmsg(o->fd, x->msg, x->flags | DONTWAIT(nowait));
}

EXPORT ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
	shim_check();
	if (shim_fd_get(fd).kind != FDK_SOCK)
		return real.recvmsg(fd, msg, flags);
	struct xfer x = XFER(fd, RT_POLL_R, flags, recvmsg_call);
	x.msg = msg;
	return shim_io(&x.op);
}

static ssize_t recvmmsg_call(struct shim_op *o, bool nowait)
{
	struct xfer *x = (struct xfer *)o;
	return real.recvmmsg(o->fd, x->vec, x->vlen,
			     x->flags | DONTWAIT(nowait), NULL);
}

static ssize_t sendmmsg_call(struct shim_op *o, bool nowait)
{
	struct xfer *x = (struct xfer *)o;
	return real.sendmmsg(o->fd, x->vec, x->vlen,
			     x->flags | DONTWAIT(nowait));
}

/* recvmmsg / sendmmsg: repeat until vlen messages (see the header). */
static int mmsg_loop(struct xfer *x, bool recv)
{
	int saved = errno;
	struct mmsghdr *vec = x->vec;
	unsigned vlen = x->vlen, got = 0;
	int64_t dl = -1;
	if (x->tmo)
		dl = rt_nanotime() + x->tmo->tv_sec * 1000000000LL +
		     x->tmo->tv_nsec;
	ssize_t r = 0;
	while (got < vlen) {
		x->vec = vec + got;
		x->vlen = vlen - got;
		r = shim_io(&x->op);
		if (r <= 0)
			break;
		got += (unsigned)r;
		if (x->op.nonblock == 1 || (recv && (x->flags & MSG_WAITFORONE)))
			break;
		if (x->op.nonblock < 0 && shim_fd_user_nonblock(x->op.fd))
			break;
		if (dl >= 0 && rt_nanotime() >= dl)
			break;
		x->op.nonblock = 0; /* program-blocking, as checked by now */
	}
	if (got > 0) {
		errno = saved;
		return (int)got;
	}
	return (int)r;
}

EXPORT int recvmmsg(int fd, struct mmsghdr *vec, unsigned vlen, int flags,
		    struct timespec *tmo)
{
	shim_check();
	if (shim_fd_get(fd).kind != FDK_SOCK || vlen == 0)
		return real.recvmmsg(fd, vec, vlen, flags, tmo);
	struct xfer x = XFER(fd, RT_POLL_R, flags, recvmmsg_call);
	x.vec = vec;
	x.vlen = vlen;
	x.tmo = tmo;
	return mmsg_loop(&x, true);
}

/* ---- send --------------------------------------------------------------------- */

static ssize_t sendto_call(struct shim_op *o, bool nowait)
{
	struct xfer *x = (struct xfer *)o;
	return real.sendto(o->fd, x->buf, x->len, x->flags | DONTWAIT(nowait),
			   x->addr, x->alen ? *x->alen : 0);
}

EXPORT ssize_t sendto(int fd, const void *buf, size_t n, int flags,
		      const struct sockaddr *addr, socklen_t alen)
{
	shim_check();
	if (shim_fd_get(fd).kind != FDK_SOCK)
		return real.sendto(fd, buf, n, flags, addr, alen);
	int saved = errno;
	struct xfer x = XFER(fd, RT_POLL_W, flags, sendto_call);
	x.addr = (struct sockaddr *)addr;
	x.alen = &alen;
	size_t done = 0;
	ssize_t r;
	for (;;) {
		x.buf = (char *)buf + done;
		x.len = n - done;
		r = shim_io(&x.op);
		if (r <= 0)
			break;
		done += (size_t)r;
		if (done >= n || x.op.nonblock == 1 ||
		    (x.op.nonblock < 0 && shim_fd_user_nonblock(fd)))
			break;
		x.op.nonblock = 0;
	}
	if (r >= 0 || done > 0) {
		errno = saved;
		return (ssize_t)done;
	}
	return r;
}

EXPORT ssize_t send(int fd, const void *buf, size_t n, int flags)
{
	return sendto(fd, buf, n, flags, NULL, 0);
}

EXPORT ssize_t __send(int fd, const void *buf, size_t n, int flags)
{
	return sendto(fd, buf, n, flags, NULL, 0);
}

static ssize_t sendmsg_call(struct shim_op *o, bool nowait)
{
	struct xfer *x = (struct xfer *)o;
	return real.sendmsg(o->fd, x->msg, x->flags | DONTWAIT(nowait));
}

/* Blocking sendmsg on a stream after a partial send: send the rest of
 * the vector (ancillary data went with the first part). */
static ssize_t sendmsg_rest(struct xfer *x, const struct msghdr *orig,
			    size_t done)
{
	int saved = errno;
	size_t total = 0;
	for (size_t i = 0; i < orig->msg_iovlen; i++)
		total += orig->msg_iov[i].iov_len;
	while (done < total) {
		struct iovec rest = {0};
		size_t skip = done;
		for (size_t i = 0; i < orig->msg_iovlen; i++) {
			if (skip < orig->msg_iov[i].iov_len) {
				rest.iov_base = (char *)orig->msg_iov[i].iov_base + skip;
				rest.iov_len = orig->msg_iov[i].iov_len - skip;
				break;
			}
			skip -= orig->msg_iov[i].iov_len;
		}
		struct msghdr m = {.msg_iov = &rest, .msg_iovlen = 1};
		x->msg = &m; /* one iovec at a time: simple, still blocking */
		ssize_t r = shim_io(&x->op);
		if (r <= 0)
			break;
		done += (size_t)r;
	}
	errno = saved;
	return (ssize_t)done;
}

static ssize_t sendmsg_impl(int fd, const struct msghdr *msg, int flags)
{
	if (shim_fd_get(fd).kind != FDK_SOCK)
		return real.sendmsg(fd, msg, flags);
	struct xfer x = XFER(fd, RT_POLL_W, flags, sendmsg_call);
	x.msg = (struct msghdr *)msg;
	ssize_t r = shim_io(&x.op);
	if (r <= 0 || x.op.nonblock == 1 || !is_stream(fd))
		return r;
	size_t total = 0;
	for (size_t i = 0; i < msg->msg_iovlen; i++)
		total += msg->msg_iov[i].iov_len;
	if ((size_t)r >= total || shim_fd_user_nonblock(fd))
		return r;
	x.op.nonblock = 0;
	return sendmsg_rest(&x, msg, (size_t)r);
}

EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	shim_check();
	ssize_t r = sendmsg_impl(fd, msg, flags);
	if (r >= 0) /* the kernel read *msg: it is readable */
		mark_passed(msg);
	return r;
}

EXPORT int sendmmsg(int fd, struct mmsghdr *vec, unsigned vlen, int flags)
{
	shim_check();
	int r;
	if (shim_fd_get(fd).kind != FDK_SOCK || vlen == 0) {
		r = real.sendmmsg(fd, vec, vlen, flags);
	} else {
		struct xfer x = XFER(fd, RT_POLL_W, flags, sendmmsg_call);
		x.vec = vec;
		x.vlen = vlen;
		r = mmsg_loop(&x, false);
	}
	/* the kernel read the messages it sent: they are readable */
	for (int i = 0; i < r; i++)
		mark_passed(&vec[i].msg_hdr);
	return r;
}
