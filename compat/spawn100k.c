/*
 * spawn100k.c - a plain pthread program for the demo (scripts/demo.sh).
 *
 *   spawn100k [N]     (N defaults to 100000)
 *
 * Starts N threads that each sleep 1 s (nanosleep) and return their index,
 * joins them all and checks every return value.  Prints how many threads were
 * created, the peak number of OS threads of the process (the "Threads:" line
 * of /proc/self/status, sampled during creation and once all are started,
 * while they sleep), the elapsed wall time and VmRSS (sampled with the peak).
 *
 * It knows nothing of greenrun.  Natively every thread is an OS thread, so on
 * a machine with kernel.pid_max = 32768 creation fails near 32k threads; then
 * it prints "pthread_create failed at thread K: <strerror>", still joins the
 * threads it made, and exits 1.  The default thread stack size is used (no
 * pthread_attr_setstacksize), so the program is exactly what an unmodified
 * application would do.
 *
 * Output is "key: value" lines that scripts/demo.sh reads.
 * Exit status: 0 when all N threads ran and returned their index, 1 otherwise.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* How often (in threads created) the OS thread count is sampled. */
#define SAMPLE_EVERY 1024

/* Each thread: sleep one second (resuming after signals), return its index. */
static void *sleeper(void *arg)
{
	struct timespec ts = { .tv_sec = 1, .tv_nsec = 0 };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
	return arg;
}

/* Value of the "KEY:" line of /proc/self/status (a number), or -1. */
static long status_field(const char *key)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	size_t klen = strlen(key);
	long v = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof line, f)) {
		if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
			v = strtol(line + klen + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return v;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	long n = 100000;
	if (argc > 1) {
		char *end;
		errno = 0;
		n = strtol(argv[1], &end, 10);
		if (errno || *end || n <= 0) {
			fprintf(stderr, "usage: %s [N]   (N > 0 threads, default 100000)\n",
				argv[0]);
			return 2;
		}
	}

	pthread_t *tids = malloc((size_t)n * sizeof *tids);
	if (!tids) {
		fprintf(stderr, "out of memory for %ld thread ids\n", n);
		return 1;
	}

	double t0 = now();
	long created = 0, peak = status_field("Threads"), rss = -1;
	int create_err = 0;

	for (long i = 0; i < n; i++) {
		int err = pthread_create(&tids[i], NULL, sleeper, (void *)(intptr_t)i);
		if (err) {
			create_err = err;
			printf("pthread_create failed at thread %ld: %s\n", i, strerror(err));
			fflush(stdout);
			break;
		}
		created++;
		if (created % SAMPLE_EVERY == 0) {
			long t = status_field("Threads");
			if (t > peak) {
				peak = t;
				rss = status_field("VmRSS");
			}
		}
	}
	double t_created = now() - t0;

	/* All started (the first ones still sleep unless creation took > 1 s). */
	long t = status_field("Threads");
	if (t >= peak) {
		peak = t;
		rss = status_field("VmRSS");
	}

	long bad = 0;
	for (long i = 0; i < created; i++) {
		void *ret;
		int err = pthread_join(tids[i], &ret);
		if (err) {
			if (bad++ < 10)
				printf("pthread_join of thread %ld failed: %s\n", i, strerror(err));
		} else if (ret != (void *)(intptr_t)i) {
			if (bad++ < 10)
				printf("thread %ld returned %ld\n", i, (long)(intptr_t)ret);
		}
	}
	double elapsed = now() - t0;

	printf("threads requested: %ld\n", n);
	printf("threads created: %ld\n", created);
	printf("create time: %.3f s\n", t_created);
	printf("peak OS threads: %ld\n", peak);
	printf("elapsed: %.3f s\n", elapsed);
	printf("VmRSS at peak: %ld kB\n", rss);
	printf("bad results: %ld\n", bad);

	int ok = !create_err && bad == 0 && created == n;
	printf("result: %s\n", ok ? "OK" : "FAILED");
	free(tids);
	return ok ? 0 : 1;
}
