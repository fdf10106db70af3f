// raw_asm_syscall: a thread that blocks in a system call made with the
// `syscall` instruction itself (inline assembly, as some runtimes and
// libraries do), bypassing every libc wrapper greenrun interposes, must
// not deadlock the process on one P (issue #7, acceptance 3).
//
// With GREENRUN_PROCS=1 the blocked thread's OS thread holds the only P.
// greenrun cannot see the call; asynchronous preemption interrupts it
// (the kernel rewinds the interrupted call to be restarted, since our
// signal has SA_RESTART), the thread yields, and the writer runs.  The
// call is made again when the thread is resumed.  Checks: a raw read on
// a pipe gets the byte written by another thread; a raw FUTEX_WAIT is
// woken by another thread's raw FUTEX_WAKE (or sees the changed word).
// greenrun-test: env=GREENRUN_PROCS=1
// greenrun-test: env=GREENRUN_PROCS=2
// greenrun-test: timeout=60
#define _GNU_SOURCE
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

static long raw3(long n, long a, long b, long c)
{
	long r;
	__asm__ volatile("syscall"
			 : "=a"(r)
			 : "a"(n), "D"(a), "S"(b), "d"(c)
			 : "rcx", "r11", "memory");
	return r;
}

static long raw4(long n, long a, long b, long c, long d)
{
	long r;
	register long r10 __asm__("r10") = d;
	__asm__ volatile("syscall"
			 : "=a"(r)
			 : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10)
			 : "rcx", "r11", "memory");
	return r;
}

static int p[2];
static atomic_int started;
static uint32_t word;

static void *reader(void *a)
{
	char c = 0;
	atomic_store(&started, 1);
	long r = raw3(SYS_read, p[0], (long)&c, 1);
	return (void *)(intptr_t)(r == 1 && c == 'z');
}

static void *waiter(void *a)
{
	atomic_store(&started, 1);
	while (__atomic_load_n(&word, __ATOMIC_SEQ_CST) == 0)
		raw4(SYS_futex, (long)&word, FUTEX_WAIT_PRIVATE, 0, 0);
	return (void *)1;
}

int main(void)
{
	if (pipe(p) != 0)
		return 1;
	pthread_t t;
	pthread_create(&t, NULL, reader, NULL);
	while (!atomic_load(&started))
		sched_yield(); /* lets the reader run and block */
	usleep(20000); /* time to block: the check holds either way, but proves less */
	if (raw3(SYS_write, p[1], (long)"z", 1) != 1)
		return 2;
	void *ok;
	pthread_join(t, &ok);
	if (!ok) {
		fprintf(stderr, "FAIL raw_asm_syscall: raw read\n");
		return 1;
	}
	atomic_store(&started, 0);
	pthread_create(&t, NULL, waiter, NULL);
	while (!atomic_load(&started))
		sched_yield();
	usleep(20000); /* time to block: the check holds either way, but proves less */
	__atomic_store_n(&word, 1, __ATOMIC_SEQ_CST);
	raw3(SYS_futex, (long)&word, FUTEX_WAKE_PRIVATE, 1);
	pthread_join(t, &ok);
	printf("raw_asm_syscall ok\n");
	return 0;
}
