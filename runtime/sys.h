/*
 * sys.h - raw Linux system calls for runtime/.
 *
 * The runtime must not set the running G's errno (it may be another
 * thread's errno after a switch) and must not depend on the libc symbols
 * shim/ interposes.  rt_syscall6 returns the kernel's raw result: >= 0 on
 * success, -errno on failure.  Async-signal-safe.
 */
#ifndef GREENRUN_SYS_H
#define GREENRUN_SYS_H

static inline long rt_syscall6(long n, long a1, long a2, long a3, long a4,
			       long a5, long a6)
{
	long ret;
	register long r10 __asm__("r10") = a4;
	register long r8 __asm__("r8") = a5;
	register long r9 __asm__("r9") = a6;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(n), "D"(a1), "S"(a2), "d"(a3), "r"(r10),
			   "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}

#define rt_syscall0(n) rt_syscall6((n), 0, 0, 0, 0, 0, 0)
#define rt_syscall1(n, a) rt_syscall6((n), (long)(a), 0, 0, 0, 0, 0)
#define rt_syscall2(n, a, b) rt_syscall6((n), (long)(a), (long)(b), 0, 0, 0, 0)
#define rt_syscall3(n, a, b, c)                                                \
	rt_syscall6((n), (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define rt_syscall4(n, a, b, c, d)                                             \
	rt_syscall6((n), (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)

#endif
