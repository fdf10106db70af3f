// preempt_state: preemption must be invisible.  Threads whose stacks were
// first filled with 0xff bytes (stale data under the preemption save
// area) run a deterministic floating-point and SIMD computation while
// being preempted every millisecond; each result must equal, bit for bit,
// the one main computed alone; malloc/free-heavy threads run alongside
// (glibc's malloc locks must never be held across a preemption).
//
// Why: the preemption trampoline saves all registers with XSAVE onto the
// G's stack.  XSAVE leaves parts of the XSAVE header untouched and XRSTOR
// faults on a stale header: threads crashed (SIGSEGV in rt_asyncpreempt)
// when the stack below held old data.  Regression for that, and the
// issue's "preemption never corrupts state" check.
// greenrun-test: env=GREENRUN_PROCS=1 GREENRUN_PREEMPT_MS=1
// greenrun-test: env=GREENRUN_PROCS=2 GREENRUN_PREEMPT_MS=1
// greenrun-test: timeout=120
// greenrun-test: cflags=-lm
#define _GNU_SOURCE
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define N 512
#define ROUNDS 100

static void __attribute__((noinline)) dirty(void)
{
	volatile char buf[32768];
	memset((char *)buf, 0xff, sizeof buf);
	__asm__ volatile("" ::"r"(buf) : "memory");
}

/* Register-only double and float work (the preemption lands inside
 * it), then vectorisable array work; the result depends on every
 * operation, in order. */
static uint64_t compute(void)
{
	static __thread double a[N], b[N];
	double x = 1.0;
	float fx = 1.0f;
	for (long i = 0; i < 60000000; i++) {
		x = x * 1.0000001 + 0.1;
		fx = fx * 0.9999f + 0.5f;
	}
	for (int i = 0; i < N; i++) {
		a[i] = i * 0.5 + x;
		b[i] = 1.0 / (i + 1);
	}
	double acc = 0;
	for (int r = 0; r < ROUNDS; r++)
		for (int i = 0; i < N; i++)
			acc += a[i] * b[i];
	acc = fmod(acc, 1e9);
	uint64_t u, v = 0;
	memcpy(&u, &acc, sizeof u);
	memcpy(&v, &fx, sizeof fx);
	return u ^ (v << 1);
}

static void *fp_worker(void *arg)
{
	dirty();
	return (void *)(uintptr_t)compute();
}

/* Spins (registers only) on a dirty stack until told to stop: the shape
 * that crashed before the XSAVE header fix. */
static volatile int stop;
static void *spinner(void *arg)
{
	dirty();
	double x = 1.0;
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED))
		x = x * 1.0000001 + 0.1;
	return (void *)(uintptr_t)(x > 0);
}

static void *malloc_worker(void *arg)
{
	dirty();
	uint64_t sum = 0;
	for (int i = 0; i < 200000; i++) {
		size_t n = 16 + (size_t)(i * 7919) % 2000;
		unsigned char *p = malloc(n);
		if (!p)
			return (void *)1;
		memset(p, i & 0xff, n);
		sum += p[n - 1];
		free(p);
	}
	return (void *)(uintptr_t)(sum == 0 ? 2 : 0);
}

int main(void)
{
	uint64_t ref = compute();
	pthread_t fp[3], ml[2];
	for (int i = 0; i < 3; i++)
		pthread_create(&fp[i], NULL, fp_worker, NULL);
	for (int i = 0; i < 2; i++)
		pthread_create(&ml[i], NULL, malloc_worker, NULL);
	for (int i = 0; i < 3; i++) {
		void *r;
		pthread_join(fp[i], &r);
		if ((uint64_t)(uintptr_t)r != ref) {
			fprintf(stderr, "FAIL preempt_state: thread %d computed %#llx, expected %#llx\n",
				i, (unsigned long long)(uintptr_t)r, (unsigned long long)ref);
			return 1;
		}
	}
	for (int i = 0; i < 2; i++) {
		void *r;
		pthread_join(ml[i], &r);
		if (r) {
			fprintf(stderr, "FAIL preempt_state: malloc worker %d: %ld\n", i, (long)(intptr_t)r);
			return 1;
		}
	}
	pthread_t sp[3];
	for (int i = 0; i < 3; i++)
		pthread_create(&sp[i], NULL, spinner, NULL);
	struct timespec ts = {0, 300 * 1000000};
	nanosleep(&ts, NULL);
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	for (int i = 0; i < 3; i++) {
		void *r;
		pthread_join(sp[i], &r);
		if ((uintptr_t)r != 1) {
			fprintf(stderr, "FAIL preempt_state: spinner %d result %ld\n", i, (long)(intptr_t)r);
			return 1;
		}
	}
	printf("preempt_state: OK\n");
	return 0;
}
