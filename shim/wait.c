/*
 * wait.c - waiting on a 32-bit word inside a program's synchronisation
 * object: the G wait queue for process-private objects, the kernel futex
 * for process-shared ones (another process may be native glibc, or
 * greenrun with its own runtime; only the kernel sees both).  The shared
 * path blocks the OS thread (syscall handoff is a later issue).
 *
 * Also the in-object lock (shim_ilock) that rwlock.c and barrier.c use to
 * guard their few fields: a three-state futex lock on a word of the
 * object.  It blocks the OS thread, so it is only held for a handful of
 * instructions and never across a park.
 */
#include <errno.h>
#include <linux/futex.h>
#include <sys/syscall.h>

#include "shim.h"
#include "sys.h"

/* The kernel futex, raw (never through our own interposed syscall());
 * returns 0 or -errno. */
static long kfutex(uint32_t *w, int op, uint32_t val, const struct timespec *ts)
{
	return rt_syscall4(SYS_futex, w, op, val, ts);
}

int shim_wait_word(uint32_t *w, uint32_t val, int64_t deadline, bool shared,
		   enum rt_waitreason why)
{
	if (!shared)
		return rt_futex_wait_why(w, val, deadline, why);
	/* The kernel futex, in slices of at most 20 ms: between slices a
	 * signal or cancellation sent to this thread ends an interruptible
	 * wait with EINTR (our kick cannot interrupt the kernel wait: it has
	 * SA_RESTART), as it would natively. */
	for (;;) {
		int64_t d = deadline >= 0 ? deadline - rt_nanotime() : 20000000;
		if (d <= 0)
			return ETIMEDOUT;
		if (d > 20000000)
			d = 20000000;
		struct timespec ts = {0, d};
		rt_entersyscall();
		long r = kfutex(w, FUTEX_WAIT, val, &ts);
		rt_exitsyscall();
		if (r == -EAGAIN)
			return EAGAIN;
		if (r == 0)
			return 0;
		if (rt_getg() && rt_getg()->intr && rt_sig_pending_self())
			return EINTR; /* the caller runs the handlers */
		if (r == -EINTR)
			return 0; /* a handler of ours ran: a spurious wake */
		if (deadline >= 0 && rt_nanotime() >= deadline)
			return ETIMEDOUT;
	}
}

int shim_wait_word_lock(uint32_t *w, uint32_t val, int64_t deadline,
			bool shared, enum rt_waitreason why)
{
	int e = SHIM_INTR(shim_wait_word(w, val, deadline, shared, why));
	if (e != EINTR)
		return e;
	/* a lock wait is never ended by a signal: run the handlers (and an
	 * asynchronous cancellation), then the caller waits again */
	rt_sigcheck();
	shim_async_cancel_point();
	return 0;
}

void shim_wake_word(uint32_t *w, int n, bool shared)
{
	if (shared)
		kfutex(w, FUTEX_WAKE, (uint32_t)n, NULL);
	else
		rt_futex_wake(w, n);
}

void shim_ilock(uint32_t *w, bool shared)
{
	uint32_t z = 0;
	if (__atomic_compare_exchange_n(w, &z, 1u, false, __ATOMIC_ACQUIRE,
					__ATOMIC_RELAXED))
		return;
	for (int i = 0; i < 100; i++) {
		__builtin_ia32_pause();
		z = 0;
		if (__atomic_load_n(w, __ATOMIC_RELAXED) == 0 &&
		    __atomic_compare_exchange_n(w, &z, 1u, false,
						__ATOMIC_ACQUIRE,
						__ATOMIC_RELAXED))
			return;
	}
	while (__atomic_exchange_n(w, 2u, __ATOMIC_ACQUIRE) != 0)
		kfutex(w, shared ? FUTEX_WAIT : FUTEX_WAIT_PRIVATE, 2, NULL);
}

void shim_iunlock(uint32_t *w, bool shared)
{
	if (__atomic_exchange_n(w, 0u, __ATOMIC_RELEASE) == 2)
		kfutex(w, shared ? FUTEX_WAKE : FUTEX_WAKE_PRIVATE, 1, NULL);
}
