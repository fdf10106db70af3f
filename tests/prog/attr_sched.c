// attr_sched: PTHREAD_EXPLICIT_SCHED makes a new thread start with the
// attribute's policy and priority; PTHREAD_INHERIT_SCHED (the default)
// with the creator's.
//
// Why (Open POSIX pthread_attr_setschedpolicy/1-2, setinheritsched/2-2,
// pthread_create/1-6): greenrun always copied the creator's values.
// Natively SCHED_FIFO needs privilege: this test expects root (CI is).
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdio.h>

static void *report(void *a)
{
	int *out = a, pol;
	struct sched_param sp;
	pthread_getschedparam(pthread_self(), &pol, &sp);
	out[0] = pol;
	out[1] = sp.sched_priority;
	return NULL;
}

static int run(pthread_attr_t *a, int out[2])
{
	pthread_t t;
	int e = pthread_create(&t, a, report, out);
	if (e)
		return e;
	return pthread_join(t, NULL);
}

int main(void)
{
	pthread_attr_t a;
	struct sched_param sp = {.sched_priority = 10};
	int got[2] = {-1, -1};
	pthread_attr_init(&a);
	pthread_attr_setinheritsched(&a, PTHREAD_EXPLICIT_SCHED);
	pthread_attr_setschedpolicy(&a, SCHED_FIFO);
	pthread_attr_setschedparam(&a, &sp);
	int e = run(&a, got);
	if (e || got[0] != SCHED_FIFO || got[1] != 10) {
		fprintf(stderr, "FAIL attr_sched: explicit: create %d, policy %d prio %d; "
			"expected 0, SCHED_FIFO (%d) 10\n", e, got[0], got[1], SCHED_FIFO);
		return 1;
	}
	pthread_attr_setinheritsched(&a, PTHREAD_INHERIT_SCHED);
	e = run(&a, got);
	if (e || got[0] != SCHED_OTHER || got[1] != 0) {
		fprintf(stderr, "FAIL attr_sched: inherit: create %d, policy %d prio %d; "
			"expected 0, SCHED_OTHER 0\n", e, got[0], got[1]);
		return 1;
	}
	printf("attr_sched: OK\n");
	return 0;
}
