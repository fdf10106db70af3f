/*
 * futex.c - syscall(SYS_futex, ...) for programs and libraries that use
 * futexes directly (C++20 std::atomic::wait, hand-written locks).
 *
 * Process-private futex operations (FUTEX_PRIVATE_FLAG, or any word on a
 * green thread's stack) become the G wait queue: FUTEX_WAIT (relative CLOCK_MONOTONIC timeout), FUTEX_WAIT_BITSET
 * (absolute timeout; FUTEX_CLOCK_REALTIME honoured), FUTEX_WAKE and
 * FUTEX_WAKE_BITSET, with the kernel's results: 0 or -1/EAGAIN when the
 * value differs, -1/ETIMEDOUT, -1/EINVAL for a bad timespec or a zero
 * bitset; WAKE returns how many were woken.  Other shared futex waits go
 * to the kernel with the P handed off (see futex() below); every other
 * operation and system call goes to the kernel unchanged, between
 * entersyscall/exitsyscall so a blocking one (syscall(SYS_read, ...) on a
 * pipe, by a library that bypasses read()) cannot stall its P.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <stdarg.h>
#include <sys/syscall.h>

#include "fdio.h"
#include "shim.h"
#include "sys.h"

static long futex_ret(int e)
{
	if (e == 0)
		return 0;
	errno = e;
	return -1;
}

/* Returns true when the operation was handled (result in *ret).
 * `priv`: the word is known to be process-private. */
static bool green_futex(long *ret, uint32_t *addr, int op, uint32_t val,
			const struct timespec *ts, uint32_t bits, bool priv)
{
	if (!priv)
		return false;
	int cmd = op & FUTEX_CMD_MASK;
	int64_t dl = -1;
	switch (cmd) {
	case FUTEX_WAIT:
		bits = FUTEX_BITSET_MATCH_ANY;
		if (ts) {
			if (!shim_ts_valid(ts)) {
				*ret = futex_ret(EINVAL);
				return true;
			}
			dl = rt_nanotime() + shim_ts_ns(ts);
		}
		break;
	case FUTEX_WAIT_BITSET:
		if (ts) {
			if (!shim_ts_valid_nsec(ts)) {
				*ret = futex_ret(EINVAL);
				return true;
			}
			dl = shim_abs_to_mono(op & FUTEX_CLOCK_REALTIME
						  ? CLOCK_REALTIME
						  : CLOCK_MONOTONIC, ts);
		}
		break;
	case FUTEX_WAKE:
		*ret = rt_futex_wake(addr, (int)val);
		return true;
	case FUTEX_WAKE_BITSET:
		if (bits == 0) {
			*ret = futex_ret(EINVAL);
			return true;
		}
		*ret = rt_futex_wake_bitset(addr, (int)val, bits);
		return true;
	default:
		return false;
	}
	if (bits == 0) {
		*ret = futex_ret(EINVAL);
		return true;
	}
	int e = SHIM_INTR(rt_futex_wait_bitset(addr, val, dl, bits));
	if (e == EINTR)
		rt_sigcheck(); /* the handler runs; the caller sees EINTR */
	*ret = futex_ret(e);
	return true;
}

static long kernel_ret(long r)
{
	if (r < 0 && r > -4096) {
		errno = (int)-r;
		return -1;
	}
	return r;
}

/* /proc/self/pagemap entry bits (Documentation/admin-guide/mm/pagemap.rst). */
#define PM_PRESENT	(1ULL << 63)
#define PM_SWAP		(1ULL << 62)
#define PM_FILE_SHARED	(1ULL << 61) /* file page or shared anonymous */
#define PM_PAGE_SIZE	4096UL       /* x86-64 base pages: one entry each */

/* Is the futex word at `addr` certainly process-private, so that no other
 * process can wait on it or wake it?  True for our own stack slots, and for
 * a word in a private anonymous page (heap, written bss/data, anonymous
 * MAP_PRIVATE): the kernel keys futexes in such pages by the address
 * space, exactly as it does for FUTEX_PRIVATE_FLAG.  The page kind comes
 * from /proc/self/pagemap (opened per call: an fd kept open could be
 * closed or replaced by the program, and a forked child's /proc/self
 * would still be the parent's).  A page that is not resident, a file or
 * shared page, or any failure answers false: the kernel then decides. */
static bool word_is_private(const uint32_t *addr)
{
	if (rt_addr_is_stack((uintptr_t)addr))
		return true;
	long fd = rt_syscall4(SYS_openat, AT_FDCWD, "/proc/self/pagemap",
			      O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0)
		return false;
	uint64_t e = 0;
	long n = rt_syscall4(SYS_pread64, fd, &e, sizeof e,
			     (long)((uintptr_t)addr / PM_PAGE_SIZE * sizeof e));
	rt_syscall1(SYS_close, fd);
	return n == (long)sizeof e && (e & (PM_PRESENT | PM_SWAP)) &&
	       !(e & PM_FILE_SHARED);
}

/* A futex word without FUTEX_PRIVATE_FLAG may be in memory shared with
 * another process, but libstdc++ (std::future and std::shared_future
 * wait with FUTEX_WAIT / FUTEX_WAIT_BITSET without the flag) and older
 * hand-written locks use such waits for process-private words too: sending
 * all of them to the kernel cost an OS thread per waiting thread (10,000
 * threads in shared_future::wait() hit GREENRUN_MAXTHREADS).  So a wait on
 * a word that word_is_private() proves private waits in the G queue; other
 * waits go to the kernel, inside entersyscall so sysmon hands the P to
 * another M.  Shared wakes wake both kinds of waiter. */
/* A kernel FUTEX_WAIT(_BITSET), blocking the OS thread (entersyscall).
 * greenrun's own signals (preemption, wake-up timer, kicks) interrupt a
 * timed kernel wait with EINTR whatever SA_RESTART says: retry then, with
 * the time left (FUTEX_WAIT's timeout is relative), unless a handler of
 * the program ran (then EINTR, as natively). */
static long kernel_wait(long a1, long a2, long a3, long a4, long a5, long a6,
			int cmd)
{
	const struct timespec *ts = (const struct timespec *)a4;
	int64_t dl = -1;
	struct timespec left;
	if (ts && cmd == FUTEX_WAIT)
		dl = rt_nanotime() + shim_ts_ns(ts);
	for (;;) {
		rt_entersyscall();
		long r = rt_syscall6(SYS_futex, a1, a2, a3, a4, a5, a6);
		rt_exitsyscall();
		if (r != -EINTR)
			return r;
		if (rt_sig_pending_self() && (rt_sigcheck() & RT_SIG_RAN))
			return r;
		if (dl >= 0) {
			int64_t d = dl - rt_nanotime();
			if (d <= 0)
				return -ETIMEDOUT;
			left.tv_sec = d / 1000000000;
			left.tv_nsec = d % 1000000000;
			a4 = (long)&left;
		}
	}
}

static long futex(long a1, long a2, long a3, long a4, long a5, long a6)
{
	uint32_t *addr = (uint32_t *)a1;
	int op = (int)a2, cmd = op & FUTEX_CMD_MASK;
	bool priv = (op & FUTEX_PRIVATE_FLAG) || rt_addr_is_stack((uintptr_t)addr) ||
		    ((cmd == FUTEX_WAIT || cmd == FUTEX_WAIT_BITSET) &&
		     word_is_private(addr));
	long r;
	if (green_futex(&r, addr, op, (uint32_t)a3,
			(const struct timespec *)a4, (uint32_t)a6, priv))
		return r;
	if (cmd == FUTEX_WAKE || cmd == FUTEX_WAKE_BITSET) {
		uint32_t bits = cmd == FUTEX_WAKE ? ~0u : (uint32_t)a6;
		int woken = bits ? rt_futex_wake_bitset(addr, (int)a3, bits) : 0;
		if (woken >= (int)a3)
			return woken;
		r = rt_syscall6(SYS_futex, a1, a2, a3 - woken, a4, a5, a6);
		return r < 0 ? kernel_ret(r) : r + woken;
	}
	if (cmd == FUTEX_WAIT || cmd == FUTEX_WAIT_BITSET)
		return kernel_ret(kernel_wait(a1, a2, a3, a4, a5, a6, cmd));
	return kernel_ret(rt_syscall6(SYS_futex, a1, a2, a3, a4, a5, a6));
}

EXPORT long syscall(long n, ...)
{
	va_list ap;
	va_start(ap, n);
	long a1 = va_arg(ap, long), a2 = va_arg(ap, long),
	     a3 = va_arg(ap, long), a4 = va_arg(ap, long),
	     a5 = va_arg(ap, long), a6 = va_arg(ap, long);
	va_end(ap);
	if (n == SYS_futex && rt_started() && !shim_on_g0())
		return futex(a1, a2, a3, a4, a5, a6);
	if (n == SYS_close_range && rt_started() && !shim_on_g0())
		/* as the wrapper: greenrun's own fds (the netpoller's epoll
		 * and eventfd) survive a program closing "everything" */
		return close_range((unsigned)a1, (unsigned)a2, (int)a3);
	/* fds made or closed through syscall(): the wrappers keep greenrun's
	 * records right (a pipe closed and made again on the same number
	 * was taken for the old, registered one, and its read waited for
	 * good); greenrun's own fds stay hidden as from close() */
	if (rt_started() && !shim_on_g0()) {
		switch (n) {
		case SYS_close:
			return close((int)a1);
		case SYS_dup2:
			return dup2((int)a1, (int)a2);
		case SYS_dup3:
			return dup3((int)a1, (int)a2, (int)a3);
		case SYS_pipe:
			return pipe((int *)a1);
		case SYS_pipe2:
			return pipe2((int *)a1, (int)a2);
		}
	}
	if (n == SYS_gettid && rt_started())
		return gettid();
	if (n == SYS_set_tid_address && rt_started() && !shim_on_g0())
		/* the kernel's clear-child-tid belongs to the OS thread (glibc
		 * joins it through that word): leave it alone; answer with
		 * the thread's id, as the call would */
		return gettid();
	if ((n == SYS_tgkill || n == SYS_tkill) && rt_started() &&
	    !shim_on_g0()) {
		/* a thread id gettid() gave out: signal that thread */
		long tid = n == SYS_tgkill ? a2 : a1, sig = n == SYS_tgkill ? a3 : a2;
		struct rt_g *g = shim_g_from_tid((pid_t)tid);
		if (g && (n == SYS_tkill || a1 == shim_pid)) {
			int e = shim_kill_g(g, (int)sig, NULL);
			if (e) {
				errno = e;
				return -1;
			}
			return 0;
		}
	}
	if (n == SYS_fork && rt_started() && !shim_in_vfork)
		/* a plain fork: our _Fork marks the fds shared and rebuilds
		 * the child, as fork's handlers would */
		return _Fork();
	if ((n == SYS_vfork || n == SYS_clone || n == SYS_clone3 ||
	     n == SYS_sendmsg || n == SYS_sendmmsg) &&
	    rt_started() && !shim_in_vfork)
		/* a child process (or a thread greenrun will not know of), or
		 * the receiver of a message that may carry fds, may share
		 * our files from now on: the flag cache (fdio.h) */
		shim_fd_mark_shared_all();
	/* Any other system call made through syscall() may block (a raw
	 * read, wait4, ...): let sysmon hand the P off if it does.  The fast
	 * path costs two atomics. */
	long r = rt_started() ? SHIM_SYSCALL(rt_syscall6(n, a1, a2, a3, a4, a5, a6))
			      : rt_syscall6(n, a1, a2, a3, a4, a5, a6);
	if (n == SYS_fcntl || n == SYS_ioctl || n == SYS_setsockopt)
		shim_fdcache_invalidate(); /* flags may have changed (fdio.h) */
	if (r < 0 && r > -4096) {
		errno = (int)-r;
		return -1;
	}
	return r;
}
