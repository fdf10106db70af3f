// stack_guard: a write one byte below the stack that pthread_getattr_np
// reports for a thread must fault (the guard page is right there).
//
// Why (Open POSIX pthread_create/1-5, 3-2): greenrun's usable stack used
// to start a page-rounding remainder above the guard, so an overflow by
// exactly the stack size landed in unprotected memory.
// greenrun-test: expect-signal=SEGV
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>

static void *below(void *a)
{
	pthread_attr_t at;
	void *lo;
	size_t size;
	pthread_getattr_np(pthread_self(), &at);
	pthread_attr_getstack(&at, &lo, &size);
	pthread_attr_destroy(&at);
	volatile char *p = (char *)lo - 1;
	*p = 1; /* must be SIGSEGV */
	return NULL;
}

int main(void)
{
	pthread_t t;
	pthread_attr_t a;
	pthread_attr_init(&a);
	pthread_attr_setstacksize(&a, 64 * 1024);
	pthread_create(&t, &a, below, NULL);
	pthread_join(t, NULL);
	fprintf(stderr, "FAIL stack_guard: writing below the stack did not fault\n");
	return 1;
}
