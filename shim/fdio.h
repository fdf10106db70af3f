/*
 * fdio.h - what the I/O shim files (fd.c, io.c, net.c, poll.c) share: the
 * per-fd record and the engine that turns a blocking call into
 * non-blocking attempts plus netpoller waits.
 *
 * How a blocking call on a pollable fd runs (fd.c has the whole story):
 * the shim never relies on the file's O_NONBLOCK flag for its own
 * attempts; it asks for non-blocking behaviour per call (MSG_DONTWAIT on
 * sockets, RWF_NOWAIT via preadv2/pwritev2 on pipes and eventfd/timerfd,
 * or a readiness check with poll() first for ttys and FIFOs opened by
 * path), so the flags other processes and libc itself see are the ones
 * the program asked for.  The one exception is a listening socket created
 * here (accept has no per-call flag): see fd.c.
 */
#ifndef GREENRUN_FDIO_H
#define GREENRUN_FDIO_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "rt_netpoll.h"

/* How the shim drives an fd (shim_fd.kind). */
enum {
	FDK_UNKNOWN = 0, /* not classified yet (fstat on first use) */
	FDK_PLAIN,       /* not pollable: the real call, blocking the M */
	FDK_SOCK,        /* socket: MSG_DONTWAIT per call */
	FDK_NOWAIT,      /* pipe, eventfd, timerfd...: RWF_NOWAIT per call */
	FDK_POLLFIRST,   /* tty, FIFO by path...: poll() for readiness, then
			    the real call (may block the M if another reader
			    wins the race; documented in fd.c) */
};

/* The per-fd record, packed in 32 bits so it is read and written as one
 * atomic word (fds are closed and reused concurrently). */
struct shim_fd {
	uint8_t kind;    /* FDK_* */
	uint8_t own;     /* created in this process through the shim */
	uint8_t nbunder; /* we set O_NONBLOCK on the file (listening socket):
			    1 here, 2 in a fork child (the parent did) */
	uint8_t user_nb; /* with nbunder: the O_NONBLOCK the program set */
	uint8_t shared;  /* another process may hold its file description
			    (fds alive at a fork or spawn, fds sent with
			    SCM_RIGHTS): its flags are never cached */
	uint8_t tcp;     /* a TCP socket we saw made (socket, accept):
			    a short read means an empty queue
			    (rt_netpoll_set_drained) */
};

/* Record of fd, classified on first use.  fd < 0 or beyond the table:
 * FDK_PLAIN (the real call reports the error). */
struct shim_fd shim_fd_get(int fd);
void shim_fd_put(int fd, struct shim_fd f);
/* fd was created by a call we intercepted: record it as ours. */
void shim_fd_created(int fd, int kind);
/* fd was created inside the C library (popen's pipe) and is shared with a
 * child: forget any state of the number's previous file. */
void shim_fd_libc_created(int fd);
/* ... and it is a TCP socket. */
void shim_fd_set_tcp(int fd);
/* newfd now refers to oldfd's file (dup family). */
void shim_fd_copy(int oldfd, int newfd);
/* fd is being closed or replaced: wake its waiters, forget it. */
void shim_fd_closing(int fd);
/* Make an own listening socket non-blocking underneath (once). */
void shim_fd_nbunder(int fd, struct shim_fd *f);

/* The flag cache.  The O_NONBLOCK the program set and whether a socket
 * has no SO_RCVTIMEO / SO_SNDTIMEO are asked of the kernel after an
 * EAGAIN, one system call each, which made 5 system calls of an echo
 * request instead of 3 (Go's).  For an fd this process created (own) and
 * shares with no other process they are kept until this process changes
 * any fd's flags or timeouts (F_SETFL, FIONBIO, setsockopt: every entry
 * is dropped at once, dup'ed fds share the flags).  An fd alive when a
 * child process is made, or sent to another process, is marked shared and
 * always asked.  Not seen: a clone() the program makes itself, and
 * another process changing a description it got by pidfd_getfd(). */
/* Drop every cached entry (a program call changed some fd's flags or
 * socket timeouts).  Thread-safe. */
void shim_fdcache_invalidate(void);
/* Every fd open now may be shared with a child process about to exist. */
void shim_fd_mark_shared_all(void);
/* Cached state of fd: bits SHIM_FC_* known now, or 0. */
#define SHIM_FC_NB_KNOWN 1u  /* the program's O_NONBLOCK is known: */
#define SHIM_FC_NB 2u        /* ... and set */
#define SHIM_FC_NORCVTMO 4u  /* the socket has no SO_RCVTIMEO */
#define SHIM_FC_NOSNDTMO 8u  /* the socket has no SO_SNDTIMEO */
unsigned shim_fdcache_get(int fd, uint32_t *gen);
/* Record bits for fd, learned after reading gen with shim_fdcache_get
 * (a change since then makes them void).  No-op for a shared fd. */
void shim_fdcache_add(int fd, uint32_t gen, unsigned bits);

/* The O_NONBLOCK the program sees on fd. */
bool shim_fd_user_nonblock(int fd);
/* SO_RCVTIMEO / SO_SNDTIMEO of a socket as a deadline, -1 for none. */
int64_t shim_sock_deadline(int fd, int mode);
/* Level check: is fd ready for mode right now (poll with timeout 0)? */
bool shim_fd_ready(int fd, int mode);

/* One interposed call in progress.  call(op, true) makes a non-blocking
 * attempt; call(op, false) is the plain real call (for FDK_PLAIN fds and
 * FDK_POLLFIRST once ready). */
struct shim_op {
	int fd;
	int mode;       /* RT_POLL_R / RT_POLL_W */
	int kind;       /* FDK_* the call uses */
	int nonblock;   /* 1: non-blocking call (MSG_DONTWAIT given); 0:
			   blocking; -1: as the fd's O_NONBLOCK (F_GETFL) */
	int64_t deadline; /* -2: not computed yet */
	ssize_t (*call)(struct shim_op *op, bool nowait);
	bool tcpread;   /* a plain read of a TCP socket (no flags): a short
			   result marks the fd drained, and a drained fd's
			   attempt is skipped (rt_netpoll.h) */
	size_t want;    /* with tcpread: bytes asked for, or */
	const struct iovec *wiov; /* ... the sum of these (read only after
				     the kernel accepted them: a bad
				     pointer gets EFAULT, not a crash) */
	int wcnt;
};

/* Run op with blocking semantics: attempt, and on EAGAIN park in the
 * netpoller until ready, a socket timeout (EAGAIN), or close (EBADF).
 * A program-non-blocking fd or call returns EAGAIN as natively.  POSIX
 * convention: result or -1/errno; errno is left alone on success. */
ssize_t shim_io(struct shim_op *op);

/* Result of a partial stream transfer that then failed: native calls
 * return the bytes already moved, keeping errno. */
static inline ssize_t shim_partial(ssize_t done, ssize_t r)
{
	return done > 0 ? done : r;
}

#endif
