/*
 * process.c - calls that block the OS thread and have no readiness to
 * wait for: the wait family, system(), and name resolution (getaddrinfo
 * and friends run glibc's resolver, whose socket calls are internal and
 * never reach our interposed ones).  Each runs the real function inside
 * rt_entersyscall/rt_exitsyscall, so if it blocks, sysmon hands the P to
 * another M and the other threads keep running.  Semantics, errno and
 * return values are the real function's, untouched.
 */
#include <dlfcn.h>
#include <netdb.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <stdio.h>

#include "fdio.h"
#include "shim.h"

static struct {
	pid_t (*waitpid)(pid_t, int *, int);
	pid_t (*wait)(int *);
	pid_t (*wait3)(int *, int, struct rusage *);
	pid_t (*wait4)(pid_t, int *, int, struct rusage *);
	int (*waitid)(idtype_t, id_t, siginfo_t *, int);
	int (*system)(const char *);
	FILE *(*popen)(const char *, const char *);
	int (*pclose)(FILE *);
	int (*fclose)(FILE *);
	FILE *(*fopen)(const char *, const char *);
	pid_t (*_Fork)(void);
	int (*getaddrinfo)(const char *, const char *, const struct addrinfo *,
			   struct addrinfo **);
	int (*getnameinfo)(const struct sockaddr *, socklen_t, char *,
			   socklen_t, char *, socklen_t, int);
	struct hostent *(*gethostbyname)(const char *);
	int (*gethostbyname_r)(const char *, struct hostent *, char *, size_t,
			       struct hostent **, int *);
	struct hostent *(*gethostbyaddr)(const void *, socklen_t, int);
	int (*fsync)(int);
	int (*fdatasync)(int);
	int (*flock)(int, int);
} rp;

void shim_process_init(void)
{
	rp.waitpid = dlsym(RTLD_NEXT, "waitpid");
	rp.wait = dlsym(RTLD_NEXT, "wait");
	rp.wait3 = dlsym(RTLD_NEXT, "wait3");
	rp.wait4 = dlsym(RTLD_NEXT, "wait4");
	rp.waitid = dlsym(RTLD_NEXT, "waitid");
	rp.system = dlsym(RTLD_NEXT, "system");
	rp.popen = dlsym(RTLD_NEXT, "popen");
	rp.pclose = dlsym(RTLD_NEXT, "pclose");
	rp.fclose = dlsym(RTLD_NEXT, "fclose");
	rp.fopen = dlsym(RTLD_NEXT, "fopen");
	rp._Fork = dlsym(RTLD_NEXT, "_Fork");
	rp.getaddrinfo = dlsym(RTLD_NEXT, "getaddrinfo");
	rp.getnameinfo = dlsym(RTLD_NEXT, "getnameinfo");
	rp.gethostbyname = dlsym(RTLD_NEXT, "gethostbyname");
	rp.gethostbyname_r = dlsym(RTLD_NEXT, "gethostbyname_r");
	rp.gethostbyaddr = dlsym(RTLD_NEXT, "gethostbyaddr");
	rp.fsync = dlsym(RTLD_NEXT, "fsync");
	rp.fdatasync = dlsym(RTLD_NEXT, "fdatasync");
	rp.flock = dlsym(RTLD_NEXT, "flock");
}

/* Run EXPR as a possibly blocking system call (and a cancellation
 * point).  A handler for a signal that interrupted it runs before it
 * returns EINTR (SHIM_SYSCALL), as natively. */
#define BLOCKING(type, expr)                                                   \
	do {                                                                   \
		shim_check();                                                  \
		shim_testcancel();                                             \
		type r_ = SHIM_SYSCALL(expr);                                  \
		if (r_ == (type)-1 && errno == EINTR)                          \
			shim_testcancel();                                     \
		return r_;                                                     \
	} while (0)

/* The same for one plain system call (SHIM_SYSCALL_RESTART). */
#define BLOCKING_RETRY(type, expr)                                             \
	do {                                                                   \
		shim_check();                                                  \
		shim_testcancel();                                             \
		return SHIM_SYSCALL_RESTART(type, expr);                       \
	} while (0)

EXPORT pid_t waitpid(pid_t pid, int *st, int opt)
{
	BLOCKING_RETRY(pid_t, rp.waitpid(pid, st, opt));
}

EXPORT pid_t wait(int *st) { BLOCKING_RETRY(pid_t, rp.wait(st)); }

EXPORT pid_t wait3(int *st, int opt, struct rusage *ru)
{
	BLOCKING_RETRY(pid_t, rp.wait3(st, opt, ru));
}

EXPORT pid_t wait4(pid_t pid, int *st, int opt, struct rusage *ru)
{
	BLOCKING_RETRY(pid_t, rp.wait4(pid, st, opt, ru));
}

EXPORT int waitid(idtype_t t, id_t id, siginfo_t *si, int opt)
{
	BLOCKING_RETRY(int, rp.waitid(t, id, si, opt));
}

EXPORT int system(const char *cmd)
{
	shim_fd_mark_shared_all(); /* the shell inherits our fds */
	BLOCKING(int, rp.system(cmd));
}

/* Streams open and close their fds inside the C library, where neither
 * pipe() nor close() is ours.  A stream's fd that was read through us
 * may be registered in the netpoller; when fclose/pclose closes it there,
 * the next file on that number (the next popen's pipe) was taken for the
 * old, registered one and a read of it waited for good.  So: forget the
 * number before the stream closes it, and when popen made it.
 * glibc's popen also spawns the shell without our posix_spawn: mark the
 * fds it inherits (fdio.h's flag cache).  In a vfork child (which shares
 * our memory) nothing of ours is touched. */
static void stream_closing(FILE *f)
{
	int fd = f && !shim_in_vfork && rt_started() ? fileno_unlocked(f) : -1;
	if (fd >= 0)
		shim_fd_closing(fd);
}

EXPORT FILE *popen(const char *cmd, const char *mode)
{
	shim_check();
	shim_fd_mark_shared_all();
	FILE *f = rp.popen(cmd, mode);
	if (f)
		shim_fd_libc_created(fileno_unlocked(f));
	return f;
}

/* fopen opens inside the C library: a FIFO's open waits for the other
 * end, so it is a system call the P is handed off from (with one P the
 * writer thread otherwise never ran), and its fd is new to us. */
EXPORT FILE *fopen(const char *path, const char *mode)
{
	shim_check();
	if (shim_in_vfork)
		return rp.fopen(path, mode);
	FILE *f = SHIM_SYSCALL(rp.fopen(path, mode));
	if (f)
		shim_fd_libc_created(fileno_unlocked(f));
	return f;
}

EXPORT FILE *shim_fopen64(const char *path, const char *mode)
    __asm__("fopen64");
FILE *shim_fopen64(const char *path, const char *mode)
{
	return fopen(path, mode);
}

/* pclose waits for the shell: a blocking call, and a cancellation point. */
EXPORT int pclose(FILE *f)
{
	shim_check();
	stream_closing(f);
	BLOCKING(int, rp.pclose(f));
}

/* fclose may run before our constructor (libselinux's own constructor
 * reads /proc with stdio: sed, ls... crashed on a NULL rp.fclose): no
 * initialisation from here, the C library's fclose looked up if need be. */
EXPORT int fclose(FILE *f)
{
	stream_closing(f);
	int (*real_fclose)(FILE *) = rp.fclose;
	if (!real_fclose)
		real_fclose = (int (*)(FILE *))dlsym(RTLD_NEXT, "fclose");
	return real_fclose(f);
}

/* _Fork (glibc 2.34) forks without running the atfork handlers.  Ours
 * still matter: the child shares our fds (the flag cache marks them), and
 * its runtime must be rebuilt around its one thread, or its first
 * blocking call (read() is async-signal-safe, so allowed there) parks in
 * the parent's copied scheduler, with no M left to run it. */
EXPORT pid_t _Fork(void)
{
	shim_check();
	if (shim_in_vfork)
		return rp._Fork();
	shim_fd_mark_shared_all();
	pid_t pid = rp._Fork();
	if (pid == 0)
		shim_fork_child();
	return pid;
}

EXPORT int getaddrinfo(const char *node, const char *svc,
		       const struct addrinfo *hints, struct addrinfo **res)
{
	BLOCKING(int, rp.getaddrinfo(node, svc, hints, res));
}

EXPORT int getnameinfo(const struct sockaddr *sa, socklen_t salen, char *host,
		       socklen_t hostlen, char *serv, socklen_t servlen,
		       int flags)
{
	BLOCKING(int, rp.getnameinfo(sa, salen, host, hostlen, serv, servlen,
				     flags));
}

EXPORT struct hostent *gethostbyname(const char *name)
{
	BLOCKING(struct hostent *, rp.gethostbyname(name));
}

EXPORT int gethostbyname_r(const char *name, struct hostent *ret, char *buf,
			   size_t len, struct hostent **result, int *herr)
{
	BLOCKING(int, rp.gethostbyname_r(name, ret, buf, len, result, herr));
}

EXPORT struct hostent *gethostbyaddr(const void *addr, socklen_t len, int type)
{
	BLOCKING(struct hostent *, rp.gethostbyaddr(addr, len, type));
}

EXPORT int fsync(int fd) { BLOCKING_RETRY(int, rp.fsync(fd)); }

EXPORT int fdatasync(int fd) { BLOCKING_RETRY(int, rp.fdatasync(fd)); }

EXPORT int flock(int fd, int op) { BLOCKING_RETRY(int, rp.flock(fd, op)); }
