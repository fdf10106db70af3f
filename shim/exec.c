/*
 * exec.c - the exec family and posix_spawn: the new program starts with
 * the calling thread's signal mask.
 *
 * Natively the mask survives exec and is inherited by a spawned child.
 * Under greenrun a thread's mask lives in software (signal.c) while the
 * OS thread runs with the common kernel mask, so just before the real
 * execve we install the thread's mask on the OS thread (and put the
 * common one back if exec fails); posix_spawn without
 * POSIX_SPAWN_SETSIGMASK gets the thread's mask set explicitly.  The
 * kernel resets handled signals to SIG_DFL at exec (our trampolines
 * included) and keeps SIG_IGN, which sigaction passed through: the new
 * image sees exactly the dispositions it would natively.
 *
 * glibc's execl*, execv* and execvp* call execve internally (not through
 * the PLT), so each public name is interposed.
 */
#include <dlfcn.h>
#include <errno.h>
#include <spawn.h>
#include <alloca.h>
#include <stdarg.h>
#include <stdlib.h>
#include <unistd.h>

#include "fdio.h"
#include "shim.h"

extern char **environ;

int shim_in_vfork; /* see shim.h; written by vfork.S */

/* vfork.S, on failure: errno, -1. */
pid_t shim_vfork_failed(int err)
{
	errno = err;
	return -1;
}

static struct {
	int (*execve)(const char *, char *const[], char *const[]);
	int (*execvpe)(const char *, char *const[], char *const[]);
	int (*fexecve)(int, char *const[], char *const[]);
	int (*posix_spawn)(pid_t *, const char *,
			   const posix_spawn_file_actions_t *,
			   const posix_spawnattr_t *, char *const[],
			   char *const[]);
	int (*posix_spawnp)(pid_t *, const char *,
			    const posix_spawn_file_actions_t *,
			    const posix_spawnattr_t *, char *const[],
			    char *const[]);
} rx;

void shim_exec_init(void)
{
	rx.execve = dlsym(RTLD_NEXT, "execve");
	rx.execvpe = dlsym(RTLD_NEXT, "execvpe");
	rx.fexecve = dlsym(RTLD_NEXT, "fexecve");
	rx.posix_spawn = dlvsym(RTLD_NEXT, "posix_spawn", "GLIBC_2.15");
	if (!rx.posix_spawn)
		rx.posix_spawn = dlsym(RTLD_NEXT, "posix_spawn");
	rx.posix_spawnp = dlvsym(RTLD_NEXT, "posix_spawnp", "GLIBC_2.15");
	if (!rx.posix_spawnp)
		rx.posix_spawnp = dlsym(RTLD_NEXT, "posix_spawnp");
}

void shim_fd_restore(void);

/* Before any exec: the thread's mask, and listening sockets we made
 * non-blocking back to blocking (the new image may share them). */
static void before_exec(void)
{
	if (shim_in_vfork) { /* the child's own mask and fds are the kernel's */
		/* but the parent's fds go on living in the new image too;
		 * memory is shared: this marks them in the parent */
		shim_fd_mark_shared_all();
		return;
	}
	shim_before_exec();
	shim_fd_restore();
}

/* exec returned: it failed.  Put the OS thread's mask back; keep errno. */
static int exec_failed(int r)
{
	int e = errno;
	shim_exec_failed();
	errno = e;
	return r;
}

EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
	shim_check();
	before_exec();
	return exec_failed(rx.execve(path, argv, envp));
}

EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
	shim_check();
	before_exec();
	return exec_failed(rx.execvpe(file, argv, envp));
}

EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
	shim_check();
	before_exec();
	return exec_failed(rx.fexecve(fd, argv, envp));
}

EXPORT int execv(const char *path, char *const argv[])
{
	return execve(path, argv, environ);
}

EXPORT int execvp(const char *file, char *const argv[])
{
	return execvpe(file, argv, environ);
}

/* execl & co.: collect the variadic arguments (and execle's envp). */
#define COLLECT(first, ap, argv, n)                                            \
	do {                                                                   \
		va_list c_;                                                    \
		va_copy(c_, ap);                                               \
		n = 1;                                                         \
		while (va_arg(c_, char *))                                     \
			n++;                                                   \
		va_end(c_);                                                    \
		argv = alloca((n + 1) * sizeof(char *));                       \
		argv[0] = (char *)(first);                                     \
		for (size_t i_ = 1; i_ <= n; i_++)                             \
			argv[i_] = va_arg(ap, char *);                         \
	} while (0)

EXPORT int execl(const char *path, const char *arg, ...)
{
	va_list ap;
	va_start(ap, arg);
	char **argv;
	size_t n;
	COLLECT(arg, ap, argv, n);
	va_end(ap);
	return execve(path, argv, environ);
}

EXPORT int execlp(const char *file, const char *arg, ...)
{
	va_list ap;
	va_start(ap, arg);
	char **argv;
	size_t n;
	COLLECT(arg, ap, argv, n);
	va_end(ap);
	return execvpe(file, argv, environ);
}

EXPORT int execle(const char *path, const char *arg, ...)
{
	va_list ap;
	va_start(ap, arg);
	char **argv;
	size_t n;
	COLLECT(arg, ap, argv, n);
	char **envp = va_arg(ap, char **);
	va_end(ap);
	return execve(path, argv, envp);
}

/* A copy of attr (or a fresh one) that sets the thread's mask. */
static const posix_spawnattr_t *with_mask(const posix_spawnattr_t *attr,
					  posix_spawnattr_t *copy)
{
	short fl = 0;
	if (attr && posix_spawnattr_getflags(attr, &fl) == 0 &&
	    (fl & POSIX_SPAWN_SETSIGMASK))
		return attr;
	if (shim_on_g0())
		return attr;
	if (attr)
		*copy = *attr;
	else
		posix_spawnattr_init(copy);
	sigset_t m;
	pthread_sigmask(SIG_BLOCK, NULL, &m);
	posix_spawnattr_setsigmask(copy, &m);
	posix_spawnattr_setflags(copy, (short)(fl | POSIX_SPAWN_SETSIGMASK));
	return copy;
}

EXPORT int posix_spawn(pid_t *pid, const char *path,
		       const posix_spawn_file_actions_t *fa,
		       const posix_spawnattr_t *attr, char *const argv[],
		       char *const envp[])
{
	shim_check();
	shim_fd_mark_shared_all(); /* the child inherits our fds */
	posix_spawnattr_t copy;
	return rx.posix_spawn(pid, path, fa, with_mask(attr, &copy), argv,
			      envp);
}

EXPORT int posix_spawnp(pid_t *pid, const char *file,
			const posix_spawn_file_actions_t *fa,
			const posix_spawnattr_t *attr, char *const argv[],
			char *const envp[])
{
	shim_check();
	shim_fd_mark_shared_all(); /* the child inherits our fds */
	posix_spawnattr_t copy;
	return rx.posix_spawnp(pid, file, fa, with_mask(attr, &copy), argv,
			       envp);
}
