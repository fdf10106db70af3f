/*
 * init.c - start greenrun when the library is loaded.
 *
 * The constructor resolves the real libc table, hands the runtime its OS
 * hooks and calls rt_init, which adopts the main thread as G1.  Other
 * libraries' constructors may run before ours and already call pthread
 * functions; every interposed entry point therefore calls shim_check(),
 * which runs the same initialisation on first use (still single-threaded
 * then: no thread can exist before some pthread_create reached us).
 * If the runtime cannot run in this process (an unexpected glibc), we
 * print why and exit rather than run the program wrongly.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "fdio.h"
#include "shim.h"

void shim_real_init(void);
void shim_process_init(void);
void shim_exec_init(void);
void shim_fd_fork_child(void);
const char *shim_refuse_reason(void);

static int os_thread_create(void *(*fn)(void *), void *arg, size_t stack)
{
	pthread_attr_t a;
	pthread_t t;
	real.pthread_attr_init(&a);
	real.pthread_attr_setstacksize(&a, stack);
	real.pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	/* An M starts with its creator's kernel mask: the common one
	 * (signal.c), or everything blocked for a system thread that asks
	 * for it itself (sysmon). */
	int e = real.pthread_create(&t, &a, fn, arg);
	shim_wrap_setxid(); /* glibc has installed its SIGSETXID handler */
	real.pthread_attr_destroy(&a);
	return e;
}

pid_t shim_pid;

/* In the child of fork(): rebuild the runtime, then our own caches.
 * Also called by our _Fork and syscall(SYS_fork) in their children. */
void shim_fork_child(void)
{
	rt_after_fork_child();
	shim_pid = getpid();
	shim_mutex_fork_child();
	shim_fd_fork_child();
	shim_signal_fork_child();
}

void shim_init(void)
{
	static int busy;
	if (rt_started() || busy)
		return;
	busy = 1;
	shim_real_init();
	shim_process_init();
	shim_exec_init();
	rt_os.thread_create = os_thread_create;
	rt_os.sigaction = real.sigaction;
	const char *err = shim_refuse_reason(); /* a program we know we break */
	if (!err)
		err = rt_init();
	if (err) {
		fprintf(stderr, "greenrun: cannot run in this process: %s\n",
			err);
		_exit(127);
	}
	shim_signal_init();
	/* glibc's own pthread_atfork (not interposed): our child handler
	 * rebuilds the runtime before the program's handlers run. */
	shim_pid = getpid();
	shim_robust_init(); /* still on the main thread: M0 */
	pthread_atfork(shim_fd_mark_shared_all, NULL, shim_fork_child);
}

__attribute__((constructor(101))) static void shim_ctor(void) { shim_init(); }
