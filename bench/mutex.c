// mutex: contended pthread mutex throughput.
//
//   mutex [THREADS] [ITERATIONS]     (defaults 4 and 1000000)
//
// THREADS threads are created and released together (a barrier); each then
// does ITERATIONS times { pthread_mutex_lock; counter++;
// pthread_mutex_unlock } on one shared default mutex.  Wall time from the
// release (taken once every worker is at the barrier, before main's own
// barrier_wait: on one CPU the workers may otherwise all finish before
// main runs again) to the last join, divided by THREADS x ITERATIONS, is printed as
// mutex_ns_per_lock=X.  The counter must come out exact (exit 1 if not).
// A benchmark, not a test.
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t start;
static long counter, iters;
static atomic_long arrived;

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void *worker(void *arg)
{
    (void)arg;
    atomic_fetch_add(&arrived, 1);
    pthread_barrier_wait(&start);
    for (long i = 0; i < iters; i++) {
        pthread_mutex_lock(&m);
        counter++;
        pthread_mutex_unlock(&m);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : 4;
    iters = argc > 2 ? strtol(argv[2], NULL, 10) : 1000000;
    if (n <= 0 || iters <= 0) {
        fprintf(stderr, "usage: mutex [threads] [iterations]\n");
        return 2;
    }
    pthread_t *t = calloc(n, sizeof *t);
    if (!t || pthread_barrier_init(&start, NULL, (unsigned)n + 1) != 0) {
        fprintf(stderr, "mutex: out of memory / barrier init failed\n");
        return 1;
    }
    for (long i = 0; i < n; i++) {
        int rc = pthread_create(&t[i], NULL, worker, NULL);
        if (rc != 0) {
            fprintf(stderr, "mutex: pthread_create #%ld: %s\n", i, strerror(rc));
            return 1;
        }
    }
    struct timespec us = {0, 100000};
    while (atomic_load(&arrived) < n)
        nanosleep(&us, NULL);
    nanosleep(&us, NULL); /* the last one from its increment into the barrier */
    double t0 = now_ns();
    pthread_barrier_wait(&start);
    for (long i = 0; i < n; i++)
        pthread_join(t[i], NULL);
    double t1 = now_ns();
    if (counter != n * iters) {
        fprintf(stderr, "mutex: counter %ld, expected %ld\n", counter, n * iters);
        return 1;
    }
    printf("mutex_ns_per_lock=%.1f\n", (t1 - t0) / ((double)n * iters));
    return 0;
}
