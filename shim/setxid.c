/*
 * setxid.c - setuid() and the other credential calls in a threaded
 * program.
 *
 * POSIX credentials are per process, Linux's per thread: glibc's setuid()
 * runs the change itself and sends SIGSETXID to every other thread it
 * knows, skipping "self", the descriptor the thread pointer names.  On an
 * M running a G that is the G's descriptor, which glibc may not know (a
 * green thread) or may know as another OS thread (the main thread's G
 * running elsewhere: the main OS thread would be skipped).  So each call
 * runs with the thread pointer set to the calling OS thread's own
 * descriptor (rt_call_on_os_thread); signal.c makes the handler on the
 * other OS threads use theirs.
 */
#include <dlfcn.h>
#include <errno.h>
#include <grp.h>
#include <unistd.h>

#include "shim.h"

#define XID_CALL(name, decl, args, ...)                                        \
	EXPORT int name decl                                                   \
	{                                                                      \
		shim_check();                                                  \
		static long (*fn)(long, long, long);                          \
		if (!fn)                                                       \
			fn = (long (*)(long, long, long))dlsym(RTLD_NEXT,      \
							       #name);         \
		if (shim_on_g0())                                              \
			return (int)fn args;                                   \
		int err = 0;                                                   \
		int res_ = (int)rt_call_on_os_thread(fn, __VA_ARGS__, &err);  \
		if (res_ < 0)                                                  \
			errno = err;                                           \
		return (int)res_;                                              \
	}

XID_CALL(setuid, (uid_t u), ((long)u, 0, 0), (long)u, 0, 0)
XID_CALL(setgid, (gid_t g), ((long)g, 0, 0), (long)g, 0, 0)
XID_CALL(seteuid, (uid_t u), ((long)u, 0, 0), (long)u, 0, 0)
XID_CALL(setegid, (gid_t g), ((long)g, 0, 0), (long)g, 0, 0)
XID_CALL(setreuid, (uid_t r, uid_t e), ((long)r, (long)e, 0), (long)r,
	 (long)e, 0)
XID_CALL(setregid, (gid_t r, gid_t e), ((long)r, (long)e, 0), (long)r,
	 (long)e, 0)
XID_CALL(setresuid, (uid_t r, uid_t e, uid_t s), ((long)r, (long)e, (long)s),
	 (long)r, (long)e, (long)s)
XID_CALL(setresgid, (gid_t r, gid_t e, gid_t s), ((long)r, (long)e, (long)s),
	 (long)r, (long)e, (long)s)
XID_CALL(setgroups, (size_t n, const gid_t *l), ((long)n, (long)l, 0),
	 (long)n, (long)l, 0)
