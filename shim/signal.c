/*
 * signal.c - per-thread signal masks: pthread_sigmask and sigprocmask.
 *
 * Natively the mask belongs to the kernel thread; under greenrun it must
 * belong to the G, or one thread blocking SIGTERM would block it for every
 * thread that later runs on the same OS thread.  Each G keeps its mask in
 * the runtime (rt_sigmask_get/set); the scheduler installs it on the M
 * before the G runs (one rt_sigprocmask only when it differs), and a new
 * thread starts with its creator's mask or the attr's (setsigmask_np).
 * As glibc, the implementation signals SIGCANCEL (32) and SIGSETXID (33)
 * can never be blocked (setuid() across threads depends on SIGSETXID), nor
 * can SIGKILL/SIGSTOP.  Delivery of signals to a particular G belongs to
 * the signals issue.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>

#include <sys/syscall.h>

#include "shim.h"
#include "sys.h"

#define BIT(sig) (1ull << ((sig) - 1))
#define UNBLOCKABLE (BIT(SIGKILL) | BIT(SIGSTOP) | BIT(32) | BIT(33))

uint64_t shim_sigset_bits(const sigset_t *set)
{
	uint64_t v;
	memcpy(&v, set, sizeof v);
	return v & ~UNBLOCKABLE;
}

EXPORT int pthread_sigmask(int how, const sigset_t *set, sigset_t *old)
{
	shim_check();
	uint64_t cur = 0;
	if (shim_on_g0())
		rt_syscall4(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &cur, 8);
	else
		cur = rt_sigmask_get();
	uint64_t s = 0;
	if (set) {
		if (how != SIG_BLOCK && how != SIG_UNBLOCK && how != SIG_SETMASK)
			return EINVAL;
		s = shim_sigset_bits(set);
	}
	if (old) {
		sigemptyset(old);
		memcpy(old, &cur, sizeof cur);
	}
	if (!set)
		return 0;
	uint64_t n = how == SIG_BLOCK ? cur | s
		   : how == SIG_UNBLOCK ? cur & ~s : s;
	if (shim_on_g0()) { /* a handler on the scheduler: this OS thread */
		rt_syscall4(SYS_rt_sigprocmask, SIG_SETMASK, &n, NULL, 8);
		return 0;
	}
	rt_sigmask_set(n);
	return 0;
}

EXPORT int sigprocmask(int how, const sigset_t *set, sigset_t *old)
{
	int e = pthread_sigmask(how, set, old);
	if (e) {
		errno = e;
		return -1;
	}
	return 0;
}
