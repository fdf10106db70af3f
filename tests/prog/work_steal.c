// work_steal: one (non-main) thread creates 10,000 CPU-bound threads; every
// one of them runs to completion and computes the right result.
//
// Why: with Go-style scheduling, threads created by one thread land on that
// thread's P's local run queue; other P's must steal from it (and the queue
// must overflow to the global queue correctly) without losing or duplicating
// a thread.  Each thread does ~200 us of arithmetic that cannot be folded
// (a 64-bit xorshift/multiply chain seeded by its index), adds its result to
// an atomic checksum and also returns it.  Checks, exactly:
//   - every thread's returned result == f(i), recomputed by main;
//   - the atomic checksum == sum of f(i) (each thread counted once);
//   - the run counter == 10,000 and each thread's "ran" flag is 1.
// With GREENRUN_PROCS=2 the work should spread over both P's (the speed-up is
// measured by bench/steal.c, not asserted here).
// greenrun-test: env=GREENRUN_PROCS=1
// greenrun-test: env=GREENRUN_PROCS=2
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NTHREADS 10000
#define ITERS 70000           /* ~200 us on a current x86-64 core */

static _Atomic uint64_t checksum;
static atomic_int runs;
static atomic_uchar ran[NTHREADS];
static pthread_t tids[NTHREADS];

static uint64_t work(uint64_t seed)
{
    uint64_t x = seed * 0x9E3779B97F4A7C15ULL + 1;
    for (int i = 0; i < ITERS; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x = x * 0xD1342543DE82EF95ULL + (uint64_t)i;
    }
    return x;
}

static void *worker(void *arg)
{
    uintptr_t i = (uintptr_t)arg;
    uint64_t r = work(i);
    atomic_fetch_add(&checksum, r);
    atomic_fetch_add(&runs, 1);
    atomic_fetch_add(&ran[i], 1);
    return (void *)(uintptr_t)r;
}

static void *creator(void *arg)
{
    (void)arg;
    for (uintptr_t i = 0; i < NTHREADS; i++) {
        int rc = pthread_create(&tids[i], NULL, worker, (void *)i);
        if (rc != 0) {
            fprintf(stderr, "FAIL work_steal: pthread_create #%lu: %s\n", (unsigned long)i, strerror(rc));
            exit(1);
        }
    }
    uint64_t *results = malloc(NTHREADS * sizeof *results);
    if (!results) {
        fprintf(stderr, "FAIL work_steal: malloc\n");
        exit(1);
    }
    for (int i = 0; i < NTHREADS; i++) {
        void *ret;
        int rc = pthread_join(tids[i], &ret);
        if (rc != 0) {
            fprintf(stderr, "FAIL work_steal: pthread_join #%d: %s\n", i, strerror(rc));
            exit(1);
        }
        results[i] = (uint64_t)(uintptr_t)ret;
    }
    return results;
}

int main(void)
{
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    pthread_t c;
    int rc = pthread_create(&c, NULL, creator, NULL);
    if (rc != 0) {
        fprintf(stderr, "FAIL work_steal: pthread_create(creator): %s\n", strerror(rc));
        return 1;
    }
    uint64_t *results;
    rc = pthread_join(c, (void **)&results);
    clock_gettime(CLOCK_MONOTONIC, &b);
    if (rc != 0 || !results) {
        fprintf(stderr, "FAIL work_steal: pthread_join(creator): rc %d\n", rc);
        return 1;
    }

    uint64_t expect_sum = 0;
    for (int i = 0; i < NTHREADS; i++) {
        uint64_t f = work((uint64_t)i);
        expect_sum += f;
        if (results[i] != f) {
            fprintf(stderr, "FAIL work_steal: thread %d returned %#llx, expected %#llx\n", i,
                    (unsigned long long)results[i], (unsigned long long)f);
            return 1;
        }
        if (atomic_load(&ran[i]) != 1) {
            fprintf(stderr, "FAIL work_steal: thread %d ran %d times, expected 1\n", i, atomic_load(&ran[i]));
            return 1;
        }
    }
    if (atomic_load(&runs) != NTHREADS) {
        fprintf(stderr, "FAIL work_steal: run count expected %d, got %d\n", NTHREADS, atomic_load(&runs));
        return 1;
    }
    if (atomic_load(&checksum) != expect_sum) {
        fprintf(stderr, "FAIL work_steal: checksum expected %#llx, got %#llx\n",
                (unsigned long long)expect_sum, (unsigned long long)atomic_load(&checksum));
        return 1;
    }
    free(results);
    printf("work_steal: %d threads OK, checksum %#llx, parallel phase %.3f s\n", NTHREADS,
           (unsigned long long)expect_sum, (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9);
    return 0;
}
