// stack_vmas: memory mappings follow the live threads, not the peak, and
// every thread's stack keeps its guard page when stacks are reused.
//
// Why (Open POSIX pthread_cond_broadcast/1-2): each greenrun stack slot
// that had ever run kept its PROT_NONE guard, two mappings a slot, so
// after 2,000 threads had come and gone the process held ~4,000 mappings
// and every fork() copied them all: 10 ms a fork against 0.3 ms natively,
// and the test, which forks 1,600 children, ran past its 20 s limit.
//
// Round 1: 2,000 threads live at once, then all joined; the mappings left
// must be within 600 of those before (natively ~10 more; greenrun keeps
// 128 hot slots, guard included, 2 mappings each).  Round 2: 2,000 threads
// again (reusing the slots, now most without their old guard): each one
// must find the page right below its stack (pthread_getattr_np) mapped
// with no access ("---p" in /proc/self/maps).
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N 2000

static pthread_barrier_t bar;
static uintptr_t below[N]; /* round 2: an address right below each stack */

static int nmaps(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	int n = 0, c;
	if (!f)
		return -1;
	while ((c = fgetc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

/* Is addr inside a mapping with no access rights? */
static int noaccess(uintptr_t addr)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	int found = -1;
	while (f && fgets(line, sizeof line, f)) {
		unsigned long lo, hi;
		char perm[8];
		if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perm) == 3 &&
		    addr >= lo && addr < hi) {
			found = strncmp(perm, "---p", 4) == 0;
			break;
		}
	}
	if (f)
		fclose(f);
	return found;
}

static void *worker(void *arg)
{
	long i = (long)arg;
	if (i >= 0) {
		pthread_attr_t at;
		void *lo;
		size_t size;
		pthread_getattr_np(pthread_self(), &at);
		pthread_attr_getstack(&at, &lo, &size);
		pthread_attr_destroy(&at);
		below[i] = (uintptr_t)lo - 1;
	}
	pthread_barrier_wait(&bar);
	if (i >= 0) /* main checks the guards while we are alive */
		pthread_barrier_wait(&bar);
	return NULL;
}

static int check_guards(void)
{
	for (int i = 0; i < N; i++) {
		int r = noaccess(below[i]);
		if (r != 1) {
			fprintf(stderr,
				"FAIL stack_vmas: thread %d of round 2: the page "
				"below its stack (%#lx) is %s\n",
				i, (unsigned long)below[i],
				r < 0 ? "not mapped" : "accessible (no guard)");
			return 1;
		}
	}
	return 0;
}

static int round_of(long tag)
{
	static pthread_t t[N];
	for (long i = 0; i < N; i++) {
		int e = pthread_create(&t[i], NULL, worker,
				       (void *)(tag < 0 ? -1 : i));
		if (e) {
			fprintf(stderr, "FAIL stack_vmas: create #%ld: %s\n", i,
				strerror(e));
			return 1;
		}
	}
	pthread_barrier_wait(&bar);
	int bad = tag >= 0 && check_guards();
	if (tag >= 0)
		pthread_barrier_wait(&bar);
	for (long i = 0; i < N; i++)
		pthread_join(t[i], NULL);
	return bad;
}

int main(void)
{
	pthread_barrier_init(&bar, NULL, N + 1);
	int before = nmaps();
	if (round_of(-1))
		return 1;
	int after = nmaps();
	if (before < 0 || after < 0 || after > before + 600) {
		fprintf(stderr,
			"FAIL stack_vmas: %d mappings before %d threads, %d "
			"after they all ended (at most %d expected)\n",
			before, N, after, before + 600);
		return 1;
	}
	if (round_of(0))
		return 1;
	printf("stack_vmas: %d mappings, %d after %d threads ended; %d "
	       "guards checked\n", before, after, N, N);
	return 0;
}
