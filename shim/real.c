/*
 * real.c - the table of real C library functions, resolved once.
 *
 * We interpose pthread_create & co., so to create OS threads (Ms) and to
 * answer questions about the main thread we need glibc's own versions.
 * dlvsym(RTLD_NEXT, name, version) picks the current symbol version
 * (pthread_create@@GLIBC_2.34); plain dlsym is the fallback for names
 * that have a single version.  Resolved in shim_init, single-threaded.
 */
#include <dlfcn.h>
#include <stdlib.h>
#include <unistd.h>

#include "shim.h"

struct real_libc real;

static void *sym(const char *name, const char *ver)
{
	void *p = ver ? dlvsym(RTLD_NEXT, name, ver) : NULL;
	if (!p)
		p = dlsym(RTLD_NEXT, name);
	if (!p) {
		static const char msg[] = "greenrun: cannot resolve a C library "
					  "function; refusing to start\n";
		(void)!write(2, msg, sizeof msg - 1);
		_exit(127);
	}
	return p;
}

/* The I/O family (fd.c, io.c, net.c, poll.c).  Single-version names. */
static void real_io_init(void)
{
	real.read = sym("read", NULL);
	real.write = sym("write", NULL);
	real.readv = sym("readv", NULL);
	real.writev = sym("writev", NULL);
	real.sendfile = sym("sendfile", NULL);
	real.splice = sym("splice", NULL);
	real.socket = sym("socket", NULL);
	real.setsockopt = sym("setsockopt", NULL);
	real.listen = sym("listen", NULL);
	real.socketpair = sym("socketpair", NULL);
	real.accept4 = sym("accept4", NULL);
	real.connect = sym("connect", NULL);
	real.recvfrom = sym("recvfrom", NULL);
	real.sendto = sym("sendto", NULL);
	real.recvmsg = sym("recvmsg", NULL);
	real.sendmsg = sym("sendmsg", NULL);
	real.recvmmsg = sym("recvmmsg", NULL);
	real.sendmmsg = sym("sendmmsg", NULL);
	real.close = sym("close", NULL);
	real.dup = sym("dup", NULL);
	real.dup2 = sym("dup2", NULL);
	real.dup3 = sym("dup3", NULL);
	real.fcntl = sym("fcntl64", "GLIBC_2.28");
	real.ioctl = sym("ioctl", NULL);
	real.pipe2 = sym("pipe2", NULL);
	real.eventfd = sym("eventfd", NULL);
	real.timerfd_create = sym("timerfd_create", NULL);
	real.signalfd = sym("signalfd", NULL);
	real.epoll_create1 = sym("epoll_create1", NULL);
	real.poll = sym("poll", NULL);
	real.ppoll = sym("ppoll", NULL);
	real.select = sym("select", NULL);
	real.pselect = sym("pselect", NULL);
	real.epoll_wait = sym("epoll_wait", NULL);
	real.epoll_pwait = sym("epoll_pwait", NULL);
	/* glibc 2.35+; NULL before (epoll_pwait2 then reports ENOSYS) */
	real.epoll_pwait2 = dlvsym(RTLD_NEXT, "epoll_pwait2", "GLIBC_2.35");
}

void shim_real_init(void)
{
	real.pthread_create = sym("pthread_create", "GLIBC_2.34");
	real.pthread_attr_init = sym("pthread_attr_init", "GLIBC_2.2.5");
	real.pthread_attr_destroy = sym("pthread_attr_destroy", "GLIBC_2.2.5");
	real.pthread_attr_setstacksize =
	    sym("pthread_attr_setstacksize", "GLIBC_2.34");
	real.pthread_attr_setdetachstate =
	    sym("pthread_attr_setdetachstate", "GLIBC_2.2.5");
	real.pthread_attr_getstack = sym("pthread_attr_getstack", "GLIBC_2.34");
	real.pthread_attr_getguardsize =
	    sym("pthread_attr_getguardsize", "GLIBC_2.2.5");
	real.pthread_getattr_np = sym("pthread_getattr_np", "GLIBC_2.32");
	real.clock_nanosleep = sym("clock_nanosleep", "GLIBC_2.17");
	real.pthread_kill = sym("pthread_kill", "GLIBC_2.34");
	real.sigaction = sym("sigaction", NULL);
	real.pthread_sigmask = sym("pthread_sigmask", "GLIBC_2.32");
	real.sigpending = sym("sigpending", NULL);
	real.sigsuspend = sym("sigsuspend", NULL);
	real.pause = sym("pause", NULL);
	real.kill = sym("kill", NULL);
	real.sigqueue = sym("sigqueue", NULL);
	real.siglongjmp = sym("siglongjmp", NULL);
	real.longjmp = sym("longjmp", NULL);
	real._longjmp = sym("_longjmp", NULL);
	real.__longjmp_chk = sym("__longjmp_chk", NULL);
	real_io_init();
}
