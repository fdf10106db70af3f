/*
 * tick.c - ticker lateness beside CPU hogs (the preemption benchmark).
 *
 *   tick [sleep|timerfd]        (default sleep)
 *
 * 4 threads spin in pure computation (no calls) while main wakes every
 * 10 ms for 200 ticks, either from nanosleep (a timer wake-up) or by a
 * blocking read() of a timerfd armed with a 10 ms period (an I/O wake-up:
 * under greenrun the netpoller reports it).  Prints the lateness
 * percentiles tick_p50_ms, tick_p99_ms, tick_max_ms (ms after the due
 * time) and each spinner's work count (fair shares = similar counts).
 * Natively the kernel time-slices; under greenrun only asynchronous and
 * wake-up preemption let the ticker and all spinners run.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define NTICK 200
#define PERIOD_NS 10000000L

static atomic_int stop;
static volatile long work[4];

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static void *spinner(void *a)
{
	long i = (long)(intptr_t)a;
	double x = 1.0;
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		for (int k = 0; k < 1000; k++)
			x = x * 1.0000001 + 0.5;
		work[i]++;
	}
	return (void *)(long)x;
}

static int cmp(const void *a, const void *b)
{
	double d = *(const double *)a - *(const double *)b;
	return d < 0 ? -1 : d > 0;
}

int main(int argc, char **argv)
{
	int usefd = argc > 1 && strcmp(argv[1], "timerfd") == 0;
	pthread_t t[4];
	for (long i = 0; i < 4; i++)
		pthread_create(&t[i], 0, spinner, (void *)(intptr_t)i);
	double late[NTICK];
	double start = now(), next = start + PERIOD_NS / 1e9;
	int fd = -1;
	if (usefd) {
		fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
		struct itimerspec its = {{0, PERIOD_NS}, {0, PERIOD_NS}};
		if (fd < 0 || timerfd_settime(fd, 0, &its, NULL) != 0) {
			perror("timerfd");
			return 1;
		}
	}
	for (int i = 0; i < NTICK; next += PERIOD_NS / 1e9) {
		if (usefd) {
			uint64_t n;
			if (read(fd, &n, sizeof n) != sizeof n) {
				perror("read timerfd");
				return 1;
			}
			/* n > 1: ticks were missed, each as late as it is */
			for (uint64_t k = 1; k < n && i < NTICK;
			     k++, next += PERIOD_NS / 1e9)
				late[i++] = (now() - next) * 1000;
			if (i < NTICK)
				late[i++] = (now() - next) * 1000;
		} else {
			double d = next - now();
			if (d > 0) {
				struct timespec ts = {0, (long)(d * 1e9)};
				nanosleep(&ts, 0);
			}
			late[i++] = (now() - next) * 1000;
		}
	}
	atomic_store(&stop, 1);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], 0);
	qsort(late, NTICK, sizeof(double), cmp);
	printf("tick_p50_ms=%.2f\ntick_p99_ms=%.2f\ntick_max_ms=%.2f\n"
	       "work=%ld,%ld,%ld,%ld\n",
	       late[NTICK / 2], late[NTICK * 99 / 100 - 1], late[NTICK - 1],
	       work[0], work[1], work[2], work[3]);
	return 0;
}
