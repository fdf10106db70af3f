/*
 * fd.c - the fd table and the calls that create, duplicate, close and
 * flag fds: close, dup, dup2, dup3, fcntl (F_GETFL/F_SETFL/F_DUPFD*),
 * ioctl (FIONBIO), pipe, pipe2, eventfd, timerfd_create, signalfd,
 * epoll_create, epoll_create1.  Sockets are created in net.c.
 *
 * The record (fdio.h, struct shim_fd) says how the shim drives each fd
 * number: not pollable (FDK_PLAIN: regular files, directories, block
 * devices: the real call, blocking the M until syscall handoff exists),
 * socket (MSG_DONTWAIT per call), pipe-like (RWF_NOWAIT per call through
 * preadv2/pwritev2), or poll-first (ttys, FIFOs opened by path, anything
 * that refuses RWF_NOWAIT).  It is filled from fstat on first use, or by
 * the call that created the fd, and forgotten when we see the fd closed.
 *
 * O_NONBLOCK policy.  We do NOT make fds non-blocking underneath: a pipe
 * or socket handed to a child process (fork + exec, posix_spawn, inherited
 * stdin/stdout), or read through stdio (fdopen: libc's internal read does
 * not come through us), must keep the flags the program set.  Non-blocking
 * behaviour is asked for per call instead, so F_GETFL, FIONBIO, accept4
 * and pipe2 flags, dup inheritance and fds 0-2 need no bookkeeping: the
 * kernel's flag *is* the program's, and a program-non-blocking fd gets
 * EAGAIN exactly as natively (the engine reads F_GETFL when it sees
 * EAGAIN, and keeps what it read for fds no other process shares: the
 * flag cache, fdio.h).  Nothing is left changed for the parent shell at
 * exit.
 *
 * The exception: accept() has no per-call non-blocking flag.  A listening
 * socket created in this process gets O_NONBLOCK underneath when it starts
 * listening (nbunder; so a pre-fork server's children all inherit the
 * record with the flag, and none mistakes the flag for the program's); the program's own view is kept in user_nb and shown by
 * F_GETFL, changed by F_SETFL/FIONBIO, copied by the dup family, and the
 * flag is cleared again at exit.  A listening socket we did not create
 * (inherited) is never changed: accept waits for readiness with poll and
 * then calls the real accept, which can block the M if another thread or
 * process takes the connection first.  The same race applies to
 * poll-first fds (several readers of one tty).
 *
 * Staleness.  An fd closed by libc itself (fclose of a stream we never saw
 * opened) keeps its record until the number is reused by a call we see.
 * If the new file is read through us meanwhile, a wrong "socket" record
 * heals itself (ENOTSOCK, or EPERM from epoll), a wrong "not pollable"
 * record only blocks the M.
 *
 * Thread-safety: records are single 32-bit words read and written
 * atomically; racing a close of the same fd is the program's race.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/sysmacros.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "atomic.h"
#include "fdio.h"
#include "shim.h"
#include "sys.h"
#include <sys/syscall.h>

#define FD_CHUNK 4096
#define FD_MAX (1 << 20)
static void *chunks[FD_MAX / FD_CHUNK]; /* uint32_t records; atomic; never freed */

static uint32_t pack(struct shim_fd f)
{
	return f.kind | f.own << 8 | f.shared << 9 | f.tcp << 10 |
	       f.nbunder << 16 | (uint32_t)f.user_nb << 24;
}

static struct shim_fd unpack(uint32_t v)
{
	return (struct shim_fd){v & 0xff,    v >> 8 & 1,  v >> 16 & 3,
				v >> 24 & 1, v >> 9 & 1, v >> 10 & 1};
}

/* The element for fd in a table of chunks of FD_CHUNK elements of `size`
 * bytes, each chunk allocated (zeroed) on first use and never freed; NULL
 * when fd is out of range, or its chunk is missing and !create or cannot
 * be allocated.  Thread-safe (racing allocators: one chunk wins). */
static void *table_slot(void **tab, int fd, size_t size, bool create)
{
	if (fd < 0 || fd >= FD_MAX)
		return NULL;
	void **cp = &tab[fd / FD_CHUNK];
	char *c = rt_load_acq(cp);
	if (!c && create) {
		void *n = calloc(FD_CHUNK, size), *none = NULL;
		if (!n)
			return NULL;
		if (__atomic_compare_exchange_n(cp, &none, n, false,
						__ATOMIC_ACQ_REL,
						__ATOMIC_ACQUIRE))
			c = n;
		else {
			free(n);
			c = none;
		}
	}
	return c ? c + (size_t)(fd % FD_CHUNK) * size : NULL;
}

static uint32_t *slot(int fd, bool create)
{
	return table_slot(chunks, fd, sizeof(uint32_t), create);
}

static int classify(int fd)
{
	struct stat st;
	int saved = errno;
	int r = fstat(fd, &st);
	errno = saved;
	if (r != 0)
		return FDK_UNKNOWN;
	switch (st.st_mode & S_IFMT) {
	case S_IFSOCK:
		return FDK_SOCK;
	case S_IFIFO:
	case 0: /* anonymous inode: eventfd, timerfd, signalfd, epoll */
		return FDK_NOWAIT;
	case S_IFCHR:
		/* memory devices (/dev/null, zero, full, random, urandom:
		 * major 1) never block: the plain call, no poll first */
		return major(st.st_rdev) == 1 ? FDK_PLAIN : FDK_POLLFIRST;
	default:
		return FDK_PLAIN;
	}
}

struct shim_fd shim_fd_get(int fd)
{
	uint32_t *s = slot(fd, true);
	if (!s)
		return (struct shim_fd){.kind = FDK_PLAIN};
	struct shim_fd f = unpack(rt_load_relaxed(s));
	if (f.kind == FDK_UNKNOWN) {
		f.kind = (uint8_t)classify(fd);
		if (f.kind == FDK_UNKNOWN) /* bad fd: let the call say so */
			return (struct shim_fd){.kind = FDK_PLAIN};
		rt_store_relaxed(s, pack(f));
	}
	return f;
}

void shim_fd_put(int fd, struct shim_fd f)
{
	uint32_t *s = slot(fd, true);
	if (s)
		rt_store_relaxed(s, pack(f));
}

/* ---- the flag cache (fdio.h) ----------------------------------------------
 * An entry: bits 0-31 the generation it was learned in, bits 32+ the
 * SHIM_FC_* bits.  Valid only while cache_gen is unchanged; a zeroed
 * entry knows nothing.  Same chunking as the records. */
static void *cchunks[FD_MAX / FD_CHUNK]; /* uint64_t entries; atomic; never freed */
static uint32_t cache_gen = 1;               /* atomic */

static uint64_t *cslot(int fd, bool create)
{
	return table_slot(cchunks, fd, sizeof(uint64_t), create);
}

static void cache_clear(int fd)
{
	uint64_t *c = cslot(fd, false);
	if (c)
		rt_store_relaxed(c, 0);
}

void shim_fdcache_invalidate(void)
{
	rt_xadd(&cache_gen, 1u);
}

unsigned shim_fdcache_get(int fd, uint32_t *gen)
{
	*gen = rt_load(&cache_gen);
	uint64_t *c = cslot(fd, false);
	if (!c)
		return 0;
	uint64_t v = rt_load(c);
	return (uint32_t)v == *gen ? (unsigned)(v >> 32) : 0;
}

void shim_fdcache_add(int fd, uint32_t gen, unsigned bits)
{
	struct shim_fd f = shim_fd_get(fd);
	if (!f.own || f.shared)
		return;
	uint64_t *c = cslot(fd, true);
	if (!c)
		return;
	/* Racing adders may lose a bit: it is asked for again later. */
	uint64_t v = rt_load_relaxed(c);
	unsigned have = (uint32_t)v == gen ? (unsigned)(v >> 32) : 0;
	rt_store_relaxed(c, (uint64_t)(have | bits) << 32 | gen);
}

void shim_fd_mark_shared_all(void)
{
	for (int ci = 0; ci < FD_MAX / FD_CHUNK; ci++) {
		uint32_t *c = rt_load_acq(&chunks[ci]);
		for (int i = 0; c && i < FD_CHUNK; i++) {
			struct shim_fd f = unpack(rt_load_relaxed(&c[i]));
			if (f.kind != FDK_UNKNOWN && !f.shared) {
				f.shared = 1;
				rt_store_relaxed(&c[i], pack(f));
			}
		}
	}
	shim_fdcache_invalidate();
}

/* ---- records ----------------------------------------------------------------- */

void shim_fd_created(int fd, int kind)
{
	rt_netpoll_fdnew(fd);
	cache_clear(fd);
	shim_fd_put(fd, (struct shim_fd){.kind = (uint8_t)kind, .own = 1});
}

void shim_fd_libc_created(int fd)
{
	rt_netpoll_fdnew(fd);
	cache_clear(fd);
	shim_fd_put(fd, (struct shim_fd){.shared = 1});
}

void shim_fd_set_tcp(int fd)
{
	struct shim_fd f = shim_fd_get(fd);
	f.tcp = 1;
	shim_fd_put(fd, f);
}

void shim_fd_copy(int oldfd, int newfd)
{
	rt_netpoll_fdnew(newfd);
	cache_clear(newfd);
	shim_fd_put(newfd, shim_fd_get(oldfd));
}

void shim_fd_closing(int fd)
{
	rt_netpoll_close(fd);
	cache_clear(fd);
	uint32_t *s = slot(fd, false);
	if (s)
		rt_store_relaxed(s, 0u);
}

void shim_fd_nbunder(int fd, struct shim_fd *f)
{
	if (f->nbunder || !f->own)
		return;
	int fl = real.fcntl(fd, F_GETFL);
	if (fl < 0)
		return;
	if (!(fl & O_NONBLOCK) && real.fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return;
	f->nbunder = 1;
	f->user_nb = (fl & O_NONBLOCK) != 0;
	shim_fd_put(fd, *f);
}

/* Give listening sockets we made non-blocking back their blocking mode:
 * an exec'd child or another process may share them.  Not those we
 * inherited through fork (nbunder 2): the parent and the siblings (a
 * pre-fork server) still accept on them, non-blocking underneath. */
void shim_fd_restore(void)
{
	int saved = errno;
	for (int ci = 0; ci < FD_MAX / FD_CHUNK; ci++) {
		uint32_t *c = rt_load_acq(&chunks[ci]);
		for (int i = 0; c && i < FD_CHUNK; i++) {
			struct shim_fd f = unpack(c[i]);
			if (f.nbunder != 1 || f.user_nb)
				continue;
			int fd = ci * FD_CHUNK + i;
			int fl = real.fcntl(fd, F_GETFL);
			if (fl >= 0)
				real.fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
		}
	}
	errno = saved;
}

__attribute__((destructor)) static void fd_restore_at_exit(void)
{
	shim_fd_restore();
}

/* In the child of fork(): listening sockets made non-blocking by the
 * parent are shared with it: mark them inherited (see shim_fd_restore).
 * Every fd is already marked shared (the flag cache): fork's prepare
 * handler and our _Fork mark them all before forking. */
void shim_fd_fork_child(void)
{
	for (int ci = 0; ci < FD_MAX / FD_CHUNK; ci++) {
		uint32_t *c = rt_load_acq(&chunks[ci]);
		for (int i = 0; c && i < FD_CHUNK; i++) {
			struct shim_fd f = unpack(c[i]);
			if (f.nbunder == 1) {
				f.nbunder = 2;
				c[i] = pack(f);
			}
		}
	}
}

/* ---- close and the dup family -------------------------------------------- */

EXPORT int close(int fd)
{
	shim_check();
	if (shim_in_vfork) /* the child's own fd table: nothing of ours */
		return real.close(fd);
	if (rt_netpoll_owns_fd(fd)) { /* not the program's: as if not open */
		errno = EBADF;
		return -1;
	}
	shim_fd_closing(fd);
	return real.close(fd);
}

/* close_range/closefrom: close the program's fds in [lo, hi], never the
 * runtime's own (a daemon's close_range(3, ~0U) must not kill the
 * netpoller). */
static int close_span(unsigned lo, unsigned hi, int flags)
{
	for (unsigned fd = lo; fd <= hi && fd < 65536; fd++)
		if (!rt_netpoll_owns_fd((int)fd))
			shim_fd_closing((int)fd);
	unsigned a = lo;
	while (a <= hi) {
		unsigned b = a;
		while (b <= hi && !rt_netpoll_owns_fd((int)b) && b < 65536)
			b++;
		if (b > a || b >= 65536) {
			unsigned end = b >= 65536 ? hi : b - 1;
			if (rt_syscall3(SYS_close_range, a, end, flags) != 0 && a == lo)
				return -1;
			if (end == hi)
				break;
			a = end + 1;
			continue;
		}
		a = b + 1; /* skip one of ours */
	}
	return 0;
}

EXPORT int close_range(unsigned lo, unsigned hi, int flags)
{
	shim_check();
	if (lo > hi) {
		errno = EINVAL;
		return -1;
	}
	if (shim_in_vfork)
		return (int)rt_syscall3(SYS_close_range, lo, hi, flags) ? -1 : 0;
	return close_span(lo, hi, flags);
}

EXPORT void closefrom(int lo)
{
	shim_check();
	if (shim_in_vfork) {
		rt_syscall3(SYS_close_range, lo < 0 ? 0 : (unsigned)lo, ~0u, 0);
		return;
	}
	close_span(lo < 0 ? 0 : (unsigned)lo, ~0u, 0);
}

EXPORT int __close(int fd) { return close(fd); }

EXPORT int dup(int fd)
{
	shim_check();
	int r = real.dup(fd);
	if (r >= 0)
		shim_fd_copy(fd, r);
	return r;
}

static int dup_over(int oldfd, int newfd, int flags, bool three)
{
	shim_check();
	if (shim_in_vfork)
		return three ? real.dup3(oldfd, newfd, flags)
			     : real.dup2(oldfd, newfd);
	if (rt_netpoll_owns_fd(oldfd)) {
		errno = EBADF;
		return -1;
	}
	rt_netpoll_evacuate(newfd);
	if (oldfd == newfd || oldfd < 0 ||
	    real.fcntl(oldfd, F_GETFD) < 0)
		return three ? real.dup3(oldfd, newfd, flags)
			     : real.dup2(oldfd, newfd);
	shim_fd_closing(newfd); /* wakes Gs parked on the fd it replaces */
	int r = three ? real.dup3(oldfd, newfd, flags)
		      : real.dup2(oldfd, newfd);
	if (r >= 0)
		shim_fd_copy(oldfd, r);
	return r;
}

EXPORT int dup2(int oldfd, int newfd) { return dup_over(oldfd, newfd, 0, false); }
EXPORT int __dup2(int oldfd, int newfd) { return dup2(oldfd, newfd); }
EXPORT int dup3(int oldfd, int newfd, int flags)
{
	return dup_over(oldfd, newfd, flags, true);
}

/* ---- fcntl and ioctl ------------------------------------------------------ */

static int fcntl_impl(int fd, int cmd, void *arg)
{
	shim_check();
	struct shim_fd f;
	int r;
	switch (cmd) {
	case F_GETFL:
		r = real.fcntl(fd, F_GETFL);
		if (r >= 0 && (f = shim_fd_get(fd)).nbunder)
			r = (r & ~O_NONBLOCK) | (f.user_nb ? O_NONBLOCK : 0);
		return r;
	case F_SETFL:
		f = shim_fd_get(fd);
		if (!f.nbunder) {
			r = real.fcntl(fd, F_SETFL, arg);
			shim_fdcache_invalidate(); /* after the change */
			return r;
		}
		r = real.fcntl(fd, F_SETFL, (int)(long)arg | O_NONBLOCK);
		if (r == 0) {
			f.user_nb = ((int)(long)arg & O_NONBLOCK) != 0;
			shim_fd_put(fd, f);
		}
		return r;
	case F_DUPFD:
	case F_DUPFD_CLOEXEC:
		r = real.fcntl(fd, cmd, arg);
		if (r >= 0)
			shim_fd_copy(fd, r);
		return r;
	case F_SETLKW:
	case F_OFD_SETLKW:
		/* waits for another lock holder: a system call sysmon may
		 * hand the P away from, ended by a signal as natively; a
		 * cancellation point */
		if (shim_on_g0())
			return real.fcntl(fd, cmd, arg);
		shim_testcancel();
		return SHIM_SYSCALL_RESTART(int, real.fcntl(fd, cmd, arg));
	default:
		return real.fcntl(fd, cmd, arg);
	}
}

/* All fcntl commands take an int or a pointer: read the one argument as a
 * pointer-sized word (as glibc itself does). */
#define FCNTL_ARG(cmd)                                                         \
	va_list ap;                                                            \
	va_start(ap, cmd);                                                     \
	void *arg = va_arg(ap, void *);                                        \
	va_end(ap)

EXPORT int fcntl(int fd, int cmd, ...)
{
	FCNTL_ARG(cmd);
	return fcntl_impl(fd, cmd, arg);
}

EXPORT int fcntl64(int fd, int cmd, ...)
{
	FCNTL_ARG(cmd);
	return fcntl_impl(fd, cmd, arg);
}

EXPORT int __fcntl(int fd, int cmd, ...)
{
	FCNTL_ARG(cmd);
	return fcntl_impl(fd, cmd, arg);
}

EXPORT int ioctl(int fd, unsigned long req, ...)
{
	shim_check();
	va_list ap;
	va_start(ap, req);
	void *arg = va_arg(ap, void *);
	va_end(ap);
	if (req == FIONBIO && arg) {
		struct shim_fd f = shim_fd_get(fd);
		if (f.nbunder) {
			int one = 1, r = real.ioctl(fd, FIONBIO, &one);
			if (r == 0) {
				f.user_nb = *(int *)arg != 0;
				shim_fd_put(fd, f);
			}
			return r;
		}
		int r = real.ioctl(fd, req, arg);
		shim_fdcache_invalidate(); /* after the change */
		return r;
	}
	return real.ioctl(fd, req, arg);
}

/* ---- creators ------------------------------------------------------------- */

/* open and its spellings.  An open may block for good: a FIFO waits for
 * its other end, a device for its carrier, a network filesystem for its
 * server.  So it runs as a system call sysmon may hand the P away from
 * (SHIM_SYSCALL), where a signal sent to the thread ends it as natively
 * (runtime/sig.c: resend): `alarm(); open(fifo)` gets EINTR.  Before, the
 * open went straight to libc and held its P, and an alarm the kernel
 * delivered to another OS thread left it blocked (1 run in 7).  The new
 * fd's record is reset (a number libc closed behind our back may be
 * reused).  A cancellation point, as in glibc. */
extern void __chk_fail(void) __attribute__((noreturn));

/* openat as glibc's wrapper returns it: -1 and errno */
static int sys_openat(int dirfd, const char *path, int flags, mode_t mode)
{
	long r = rt_syscall4(SYS_openat, dirfd, (long)path, flags, mode);
	if (r < 0) {
		errno = (int)-r;
		return -1;
	}
	return (int)r;
}

static int open_common(int dirfd, const char *path, int flags, mode_t mode)
{
	shim_check();
	if (shim_on_g0())
		return sys_openat(dirfd, path, flags, mode);
	shim_testcancel();
	int fd = SHIM_SYSCALL_RESTART(int, sys_openat(dirfd, path, flags, mode));
	if (fd >= 0)
		shim_fd_created(fd, FDK_UNKNOWN);
	return fd;
}

#define NEEDS_MODE(fl) (((fl) & O_CREAT) || ((fl) & O_TMPFILE) == O_TMPFILE)

static mode_t va_mode(int flags, va_list ap)
{
	return NEEDS_MODE(flags) ? (mode_t)va_arg(ap, int) : 0;
}

EXPORT int open(const char *path, int flags, ...)
{
	va_list ap;
	va_start(ap, flags);
	mode_t mode = va_mode(flags, ap);
	va_end(ap);
	return open_common(AT_FDCWD, path, flags, mode);
}

EXPORT int openat(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	va_start(ap, flags);
	mode_t mode = va_mode(flags, ap);
	va_end(ap);
	return open_common(dirfd, path, flags, mode);
}

EXPORT int creat(const char *path, mode_t mode)
{
	return open_common(AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, mode);
}

/* _FORTIFY_SOURCE: no mode argument; glibc aborts when one is needed */
EXPORT int __open_2(const char *path, int flags)
{
	if (NEEDS_MODE(flags))
		__chk_fail();
	return open_common(AT_FDCWD, path, flags, 0);
}

EXPORT int __openat_2(int dirfd, const char *path, int flags)
{
	if (NEEDS_MODE(flags))
		__chk_fail();
	return open_common(dirfd, path, flags, 0);
}

/* The 64-bit names (the same calls on x86_64). */
EXPORT int open64(const char *path, int flags, ...)
    __attribute__((alias("open")));
EXPORT int openat64(int dirfd, const char *path, int flags, ...)
    __attribute__((alias("openat")));
EXPORT int creat64(const char *path, mode_t mode)
    __attribute__((alias("creat")));
EXPORT int __open64_2(const char *path, int flags)
    __attribute__((alias("__open_2")));
EXPORT int __openat64_2(int dirfd, const char *path, int flags)
    __attribute__((alias("__openat_2")));

EXPORT int pipe2(int fds[2], int flags)
{
	shim_check();
	int r = real.pipe2(fds, flags);
	if (r == 0) {
		shim_fd_created(fds[0], FDK_NOWAIT);
		shim_fd_created(fds[1], FDK_NOWAIT);
	}
	return r;
}

EXPORT int pipe(int fds[2]) { return pipe2(fds, 0); }

static int created(int fd, int kind)
{
	if (fd >= 0)
		shim_fd_created(fd, kind);
	return fd;
}

EXPORT int eventfd(unsigned int initval, int flags)
{
	shim_check();
	return created(real.eventfd(initval, flags), FDK_NOWAIT);
}

EXPORT int timerfd_create(int clockid, int flags)
{
	shim_check();
	return created(real.timerfd_create(clockid, flags), FDK_NOWAIT);
}

EXPORT int signalfd(int fd, const sigset_t *mask, int flags)
{
	shim_check();
	int r = real.signalfd(fd, mask, flags);
	/* The signals it reads must stay pending in the kernel: every OS
	 * thread blocks them from now on (signal.c, runtime/sig.c). */
	if (r >= 0)
		rt_sig_kset_add(shim_sigset_bits(mask));
	return fd == -1 ? created(r, FDK_NOWAIT) : r;
}

EXPORT int epoll_create1(int flags)
{
	shim_check();
	return created(real.epoll_create1(flags), FDK_NOWAIT);
}

EXPORT int epoll_create(int size)
{
	if (size <= 0) {
		errno = EINVAL;
		return -1;
	}
	return epoll_create1(0);
}
