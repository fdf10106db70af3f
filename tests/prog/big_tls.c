// big_tls: a program with 1 MiB of __thread data still gets the OS
// threads it needs: a pure spin-wait on a flag set by a thread created
// after the spinner completes on one P (that needs sysmon's preemption).
//
// Why: glibc carves the static TLS out of each OS thread's stack.  The
// runtime created sysmon with a 64 KiB stack, which glibc refused
// (EINVAL) when the program's TLS was larger: sysmon silently never ran,
// so no preemption and no syscall handoff.
// greenrun-test: env=GREENRUN_PROCS=1
// greenrun-test: timeout=60
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>

static __thread char big[1 << 20];
static atomic_int flag;

static void *waiter(void *a)
{
	big[0] = 1;
	while (!atomic_load_explicit(&flag, memory_order_acquire))
		;
	return (void *)(intptr_t)(big[0] + big[(1 << 20) - 1]);
}

static void *setter(void *a)
{
	atomic_store_explicit(&flag, 1, memory_order_release);
	return NULL;
}

int main(void)
{
	pthread_t a, b;
	void *r;
	if (pthread_create(&a, NULL, waiter, NULL))
		return 1;
	sched_yield(); /* on one P the waiter now spins; only preemption
			  brings main back to create the setter */
	if (pthread_create(&b, NULL, setter, NULL))
		return 1;
	pthread_join(a, &r);
	pthread_join(b, NULL);
	if ((intptr_t)r != 1) {
		fprintf(stderr, "FAIL big_tls: waiter returned %ld, expected 1\n", (long)(intptr_t)r);
		return 1;
	}
	printf("big_tls: OK\n");
	return 0;
}
