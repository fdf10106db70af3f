/*
 * shim.h - what the shim/ files share: the real-libc table, the per-thread
 * record kept in each G's shim area, and the init check every interposed
 * entry point starts with.
 *
 * Error conventions (STYLE.md 8): pthread_* and clock_nanosleep return an
 * error number and leave errno alone; interposed system calls return -1
 * and set errno.
 */
#ifndef GREENRUN_SHIM_H
#define GREENRUN_SHIM_H

#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <string.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>
#include <unwind.h>

#include "rt.h"

#define EXPORT __attribute__((visibility("default")))

/* Real C library functions, resolved once by shim_init (real.c). */
struct real_libc {
	int (*pthread_create)(pthread_t *, const pthread_attr_t *,
			      void *(*)(void *), void *);
	int (*pthread_attr_init)(pthread_attr_t *);
	int (*pthread_attr_destroy)(pthread_attr_t *);
	int (*pthread_attr_setstacksize)(pthread_attr_t *, size_t);
	int (*pthread_attr_setdetachstate)(pthread_attr_t *, int);
	int (*pthread_attr_getstack)(const pthread_attr_t *, void **, size_t *);
	int (*pthread_attr_getguardsize)(const pthread_attr_t *, size_t *);
	int (*pthread_getattr_np)(pthread_t, pthread_attr_t *);
	int (*clock_nanosleep)(clockid_t, int, const struct timespec *,
			       struct timespec *);
	int (*pthread_kill)(pthread_t, int);
	int (*sigaction)(int, const struct sigaction *, struct sigaction *);
	int (*pthread_sigmask)(int, const sigset_t *, sigset_t *);
	int (*sigpending)(sigset_t *);
	int (*sigsuspend)(const sigset_t *);
	int (*pause)(void);
	int (*kill)(pid_t, int);
	int (*sigqueue)(pid_t, int, const union sigval);
	void (*siglongjmp)(struct __jmp_buf_tag *, int)
	    __attribute__((noreturn));
	void (*longjmp)(struct __jmp_buf_tag *, int) __attribute__((noreturn));
	void (*_longjmp)(struct __jmp_buf_tag *, int) __attribute__((noreturn));
	void (*__longjmp_chk)(struct __jmp_buf_tag *, int)
	    __attribute__((noreturn));

	/* I/O (fd.c, io.c, net.c, poll.c); opaque pointer types keep this
	 * header free of socket/poll/epoll includes. */
	ssize_t (*read)(int, void *, size_t);
	ssize_t (*write)(int, const void *, size_t);
	ssize_t (*readv)(int, const void *iov, int);
	ssize_t (*writev)(int, const void *iov, int);
	ssize_t (*sendfile)(int, int, void *off, size_t);
	ssize_t (*splice)(int, void *, int, void *, size_t, unsigned);
	int (*socket)(int, int, int);
	int (*setsockopt)(int, int, int, const void *, unsigned);
	int (*listen)(int, int);
	int (*socketpair)(int, int, int, int *);
	int (*accept4)(int, void *addr, void *len, int);
	int (*connect)(int, const void *addr, unsigned);
	ssize_t (*recvfrom)(int, void *, size_t, int, void *addr, void *len);
	ssize_t (*sendto)(int, const void *, size_t, int, const void *, unsigned);
	ssize_t (*recvmsg)(int, void *msg, int);
	ssize_t (*sendmsg)(int, const void *msg, int);
	int (*recvmmsg)(int, void *vec, unsigned, int, void *tmo);
	int (*sendmmsg)(int, void *vec, unsigned, int);
	int (*close)(int);
	int (*dup)(int);
	int (*dup2)(int, int);
	int (*dup3)(int, int, int);
	int (*fcntl)(int, int, ...);
	int (*ioctl)(int, unsigned long, ...);
	int (*pipe2)(int *, int);
	int (*eventfd)(unsigned, int);
	int (*timerfd_create)(int, int);
	int (*signalfd)(int, const sigset_t *, int);
	int (*epoll_create1)(int);
	int (*poll)(void *fds, unsigned long, int);
	int (*ppoll)(void *fds, unsigned long, const struct timespec *,
		     const sigset_t *);
	int (*select)(int, void *, void *, void *, void *tv);
	int (*pselect)(int, void *, void *, void *, const struct timespec *,
		       const sigset_t *);
	int (*epoll_wait)(int, void *ev, int, int);
	int (*epoll_pwait)(int, void *ev, int, int, const sigset_t *);
	int (*epoll_pwait2)(int, void *ev, int, const struct timespec *,
			    const sigset_t *);
};
extern struct real_libc real;

/* Make sure the runtime is up (constructors of other libraries may call
 * us before our own constructor ran).  Cheap after the first call. */
void shim_init(void);
static inline void shim_check(void)
{
	if (__builtin_expect(!rt_started(), 0))
		shim_init();
}

/* True when the caller cannot park (rt_cannot_park): on a scheduler
 * context (g0), or off the G's stack (a program's fault handler running
 * on the signal stack).  Blocking calls then go straight to the C library
 * and block the OS thread. */
/* Set in the child of vfork() (shim/vfork.S) until it execs or exits:
 * it shares our memory, so every entry point goes straight to the C
 * library and leaves greenrun's state (the parent's) alone. */
extern int shim_in_vfork;

/* A cooperative preemption point (rt_preempt_point) for entry points a
 * program may call in a loop that never blocks: mutex, spin and rwlock
 * lock/trylock/unlock, cond signal/broadcast (Open POSIX
 * pthread_cond_broadcast/4-2 broadcasts in a loop until the waiters it
 * wakes have run).  Not for async-signal-safe calls (sem_post): a
 * handler may run them where the interrupted code holds a libc lock. */
static inline void shim_preempt_point(void)
{
	if (!__builtin_expect(shim_in_vfork, 0))
		rt_preempt_point();
}

static inline bool shim_on_g0(void)
{
	return __builtin_expect(shim_in_vfork, 0) || rt_cannot_park();
}

/* True only on a scheduler context: no G at all (signal masks, pending
 * sets and handler bookkeeping belong to the G even off its stack), or
 * the child of vfork. */
static inline bool shim_no_g(void)
{
	struct rt_g *g = rt_getg();
	return __builtin_expect(shim_in_vfork, 0) || !g || g->isg0;
}

/* Evaluate a real call that may block the OS thread with no readiness to
 * wait for (regular files...) between rt_entersyscall/rt_exitsyscall, so
 * sysmon can hand the P to another M.  Keeps errno.  A signal that
 * arrived meanwhile (the kernel call got EINTR, as natively, since the
 * trampoline mirrors SA_RESTART) has its handler run before we return. */
#define SHIM_SYSCALL(expr)                                                     \
	({                                                                     \
		rt_entersyscall();                                             \
		__typeof__(expr) r_ = (expr);                                  \
		rt_exitsyscall();                                              \
		if (__builtin_expect(!shim_no_g() &&                           \
			__atomic_load_n(&rt_getg()->sigpending,                \
					__ATOMIC_RELAXED) != 0, 0)) {          \
			int e_ = errno;                                        \
			rt_sigcheck();                                         \
			errno = e_;                                            \
		}                                                              \
		r_;                                                            \
	})

/* SHIM_SYSCALL for one plain system call (EXPR returns -1 and sets
 * errno), restarted when it failed with EINTR but no handler ran on this
 * thread meanwhile: a stale copy of a signal that had already ended an
 * earlier call (runtime/sig.c, resend).  A pending cancellation acts on
 * each EINTR.  Not for compound calls (system(), getaddrinfo): never
 * re-run those. */
#define SHIM_SYSCALL_RESTART(type, expr)                                       \
	({                                                                     \
		type rr_;                                                      \
		for (;;) {                                                     \
			uint32_t ran_ = shim_no_g() ? 0 : rt_sig_ran();        \
			rr_ = SHIM_SYSCALL(expr);                              \
			if (rr_ != (type)-1 || errno != EINTR)                 \
				break;                                         \
			shim_testcancel();                                     \
			if (shim_no_g() || rt_sig_ran() != ran_)               \
				break;                                         \
		}                                                              \
		rr_;                                                           \
	})

/* Thread-specific data, as glibc: 32 inline slots, then blocks of 32. */
#define SHIM_KEYS_MAX 1024
#define SHIM_KEY_BLOCK 32
struct shim_keydata {
	uintptr_t seq;
	void *val;
};

/* Per-thread record, living in g->shim (RT_G_SHIM_BYTES). */
struct shim_thread {
	void *(*start)(void *);
	void *arg;
	bool c11;                  /* thrd_create: start returns int */
	void *retval;
	void *rootbuf;             /* our cancel root buffer (not for G1) */
	void *unwind_target;       /* next cleanup buffer while unwinding */
	struct _Unwind_Exception exc;
	int schedpolicy, schedprio;
	__pthread_list_t *robust_head; /* robust mutexes held (mutex.c) */
	unsigned rshared_held;     /* robust process-shared ones (robust.c) */
	/* cancellation (cancel.c); the G itself, except cancelpending
	 * which pthread_cancel sets from any thread (atomic) */
	uint8_t cancelstate;       /* PTHREAD_CANCEL_ENABLE / _DISABLE */
	uint8_t canceltype;        /* PTHREAD_CANCEL_DEFERRED / _ASYNCHRONOUS */
	bool cancelpending;
	bool cancelling;           /* acting on it: never twice */
	/* handlers running on this G, innermost last (signal.c) */
	int hdepth;
#define SHIM_HSTACK 8
	struct {
		uintptr_t sp;       /* frame of run_action */
		uint64_t oldmask;   /* mask the handler interrupted */
	} hstack[SHIM_HSTACK];
	struct shim_keydata *keyblocks[SHIM_KEYS_MAX / SHIM_KEY_BLOCK];
	struct shim_keydata keys[SHIM_KEY_BLOCK];
};
_Static_assert(sizeof(struct shim_thread) <= RT_G_SHIM_BYTES,
	       "struct shim_thread must fit the G's shim area");

static inline struct shim_thread *shim_self(void)
{
	return (struct shim_thread *)rt_getg()->shim;
}

static inline struct shim_thread *shim_of(struct rt_g *g)
{
	return (struct shim_thread *)g->shim;
}

/* A non-zero id for the calling thread, unique for the process's life
 * (up to 2^30 threads): mutex/rwlock owners.  An OS thread greenrun did
 * not create (glibc's timer_create(SIGEV_THREAD) and AIO helpers) has no
 * G: its id is 2^30 | its kernel TID (shim_foreign_id). */
int shim_foreign_id(void);
static inline int shim_self_id(void)
{
	struct rt_g *g = rt_getg();
	if (__builtin_expect(!g, 0))
		return shim_foreign_id();
	return (int)(g->goid & 0x3fffffff) | (g->goid == 0);
}

/* getpid() of this process, kept by init.c (and its fork child handler)
 * so owner checks need no system call. */
extern pid_t shim_pid;

/* pthread_t -> live G, or NULL (ESRCH). */
static inline struct rt_g *shim_g(pthread_t t)
{
	return rt_g_from_tp((void *)t);
}

/* timespec helpers (sleep.c): EINVAL checks and conversions. */
bool shim_ts_valid(const struct timespec *ts);
/* Only 0 <= tv_nsec < 1e9 (absolute times may be negative: ETIMEDOUT). */
static inline bool shim_ts_valid_nsec(const struct timespec *ts)
{
	return ts->tv_nsec >= 0 && ts->tv_nsec < 1000000000;
}
int64_t shim_ts_ns(const struct timespec *ts);
/* Absolute time on clock clk -> monotonic deadline (ns).  -1 for an
 * unsupported clock. */
int64_t shim_abs_to_mono(clockid_t clk, const struct timespec *abs);

/* sleep.c: the sleep family's common body (a cancellation point). */
int shim_sleep_until(int64_t dl, struct timespec *rem);

/* wait.c: wait on / wake a word of a program object (green, or kernel
 * futex when shared); returns 0, EAGAIN (value differed) or ETIMEDOUT.
 * shim_ilock: a short in-object lock (never held across a park). */
int shim_wait_word(uint32_t *w, uint32_t val, int64_t deadline, bool shared,
		   enum rt_waitreason why);
void shim_wake_word(uint32_t *w, int n, bool shared);
/* shim_wait_word for lock waits (mutex, rwlock, barrier): signal
 * handlers sent meanwhile run during the wait, as natively, and an
 * asynchronous cancellation acts; returns 0 then (callers loop). */
int shim_wait_word_lock(uint32_t *w, uint32_t val, int64_t deadline,
			bool shared, enum rt_waitreason why);
void shim_ilock(uint32_t *w, bool shared);
void shim_iunlock(uint32_t *w, bool shared);

/* mutex.c / mutexattr.c */
int shim_mutexattr_kind(const pthread_mutexattr_t *a);
void shim_robust_release_all(struct shim_thread *st);
int shim_mutex_release(pthread_mutex_t *m, unsigned *depth);
int shim_mutex_reacquire(pthread_mutex_t *m, unsigned depth);
/* In a new child process (fork's atfork handler, _Fork, syscall(SYS_fork)):
 * rebuild the runtime around the calling thread, then the shim's state. */
void shim_fork_child(void);
void shim_mutex_fork_child(void);

/* robust.c: robust process-shared mutexes (glibc's robust protocol on
 * the word, the kernel's robust list; mutex.c checks types and
 * recursion, then calls these). */
int shim_rmutex_lock(pthread_mutex_t *m, int64_t deadline,
		     const struct timespec *ts, bool try);
void shim_rmutex_unlock(pthread_mutex_t *m);
bool shim_rmutex_held(const pthread_mutex_t *m);
bool shim_rmutex_notrecoverable(const pthread_mutex_t *m);
int shim_rmutex_consistent(pthread_mutex_t *m);
void shim_rmutex_release_all(void);
void shim_robust_init(void);
void shim_robust_fork_child(void);

/* signal.c: sigset_t <-> the runtime's 64-bit mask. */
uint64_t shim_sigset_bits(const sigset_t *set);
void shim_signal_init(void);
void shim_wrap_setxid(void);
void shim_signal_fork_child(void);
/* Send sig to g as pthread_kill does; returns 0 or an errno value. */
int shim_kill_g(struct rt_g *g, int sig, const siginfo_t *si);
/* After an interruptible wait returned EINTR: run the G's pending
 * handlers and act on a cancellation request.  True when the interrupted
 * call must be restarted: nothing ran, or restartable is true and every
 * handler had SA_RESTART (signal(7): restartable calls). */
bool shim_intr_restart(bool restartable);
/* exec family: the new image starts with the thread's mask (which lives
 * in software here); shim_exec_failed puts the M's back. */
void shim_before_exec(void);
void shim_exec_failed(void);

/* Evaluate expr (a runtime wait) with the G's waits interruptible. */
#define SHIM_INTR(expr)                                                        \
	({                                                                     \
		bool w_ = rt_intr(true);                                       \
		__typeof__(expr) r_ = (expr);                                  \
		rt_intr(w_);                                                   \
		r_;                                                            \
	})

/* thread.c: the G behind a thread id that gettid() gave out, or NULL. */
struct rt_g *shim_g_from_tid(pid_t tid);
pid_t shim_tid_base(void);

/* cancel.c: act on a pending cancellation request if enabled (a
 * cancellation point); never returns then. */
void shim_testcancel(void);
/* rt_sighooks.async_point: asynchronous cancellation acts here. */
void shim_async_cancel_point(void);

/* Run thread-exit destructors (C++ thread_local, keys). key.c */
void shim_keys_run_destructors(struct shim_thread *st);
/* attr.c: translate a pthread_attr_t into a spawn request. */
int shim_attr_to_spawn(const pthread_attr_t *a, struct rt_spawn_attr *sa);
/* Replace the creator's policy and priority (passed in) by the attr's
 * when it says PTHREAD_EXPLICIT_SCHED. */
void shim_attr_sched(const pthread_attr_t *a, int *policy, int *prio);
/* thread.c: end the calling thread after destructors. */
void shim_thread_finish(struct shim_thread *st) __attribute__((noreturn));

#endif
