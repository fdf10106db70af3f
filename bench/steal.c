// steal: one thread creates N CPU-bound threads (~1 ms of arithmetic each)
// and joins them all; prints wall_ms=X for the whole create+run+join phase.
//
//   steal [N] [ITERS]     (N default 10000; ITERS default 350000 ~ 1 ms)
//
// All threads start on the creating thread's P, so under greenrun the other
// P's only get work by stealing: compare GREENRUN_PROCS=1 with =2.
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static long nthreads = 10000, iters = 350000;
static _Atomic uint64_t checksum;

static uint64_t work(uint64_t seed)
{
    uint64_t x = seed * 0x9E3779B97F4A7C15ULL + 1;
    for (long i = 0; i < iters; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x = x * 0xD1342543DE82EF95ULL + (uint64_t)i;
    }
    return x;
}

static void *worker(void *arg)
{
    atomic_fetch_add(&checksum, work((uintptr_t)arg));
    return NULL;
}

static void *creator(void *arg)
{
    (void)arg;
    pthread_t *t = malloc(nthreads * sizeof *t);
    if (!t) {
        perror("malloc");
        exit(1);
    }
    for (long i = 0; i < nthreads; i++) {
        int rc = pthread_create(&t[i], NULL, worker, (void *)(uintptr_t)i);
        if (rc != 0) {
            fprintf(stderr, "steal: pthread_create #%ld: %s\n", i, strerror(rc));
            exit(1);
        }
    }
    for (long i = 0; i < nthreads; i++)
        pthread_join(t[i], NULL);
    free(t);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc > 1)
        nthreads = strtol(argv[1], NULL, 10);
    if (argc > 2)
        iters = strtol(argv[2], NULL, 10);
    if (nthreads <= 0 || iters <= 0) {
        fprintf(stderr, "usage: steal [N] [ITERS]\n");
        return 2;
    }
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    pthread_t c;
    int rc = pthread_create(&c, NULL, creator, NULL);
    if (rc != 0) {
        fprintf(stderr, "steal: pthread_create: %s\n", strerror(rc));
        return 1;
    }
    pthread_join(c, NULL);
    clock_gettime(CLOCK_MONOTONIC, &b);
    printf("wall_ms=%.1f\n", (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6);
    printf("checksum=%#llx\n", (unsigned long long)atomic_load(&checksum));
    return 0;
}
