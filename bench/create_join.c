// create_join: cost of creating and joining a trivial thread.
//
//   create_join [N] [seq|all|both]     (N default 100000, mode default both)
//
//   seq:  N times { pthread_create; pthread_join }  -> create_join_ns_per_thread=X
//   all:  create all N, then join all N             -> create_all_join_all_ns_per_thread=X
//
// A benchmark, not a test: no pass/fail beyond reporting errors.
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void *trivial(void *arg) { return arg; }

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void check(int rc, const char *what, long i)
{
    if (rc != 0) {
        fprintf(stderr, "create_join: %s #%ld: %s\n", what, i, strerror(rc));
        exit(1);
    }
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : 100000;
    const char *mode = argc > 2 ? argv[2] : "both";
    if (n <= 0) {
        fprintf(stderr, "usage: create_join [N] [seq|all|both]\n");
        return 2;
    }
    int seq = !strcmp(mode, "seq") || !strcmp(mode, "both");
    int all = !strcmp(mode, "all") || !strcmp(mode, "both");
    if (!seq && !all) {
        fprintf(stderr, "usage: create_join [N] [seq|all|both]\n");
        return 2;
    }

    if (seq) {
        /* warm-up (stack caches, lazy binding) */
        for (long i = 0; i < 100; i++) {
            pthread_t t;
            check(pthread_create(&t, NULL, trivial, NULL), "pthread_create", i);
            check(pthread_join(t, NULL), "pthread_join", i);
        }
        double t0 = now_ns();
        for (long i = 0; i < n; i++) {
            pthread_t t;
            void *r;
            check(pthread_create(&t, NULL, trivial, (void *)(intptr_t)i), "pthread_create", i);
            check(pthread_join(t, &r), "pthread_join", i);
            if (r != (void *)(intptr_t)i) {
                fprintf(stderr, "create_join: thread %ld returned %p\n", i, r);
                return 1;
            }
        }
        printf("create_join_ns_per_thread=%.1f\n", (now_ns() - t0) / n);
        fflush(stdout);
    }
    if (all) {
        pthread_t *t = malloc(n * sizeof *t);
        if (!t) {
            perror("malloc");
            return 1;
        }
        memset(t, 0, n * sizeof *t);
        double t0 = now_ns();
        for (long i = 0; i < n; i++)
            check(pthread_create(&t[i], NULL, trivial, (void *)(intptr_t)i), "pthread_create", i);
        for (long i = 0; i < n; i++)
            check(pthread_join(t[i], NULL), "pthread_join", i);
        printf("create_all_join_all_ns_per_thread=%.1f\n", (now_ns() - t0) / n);
        free(t);
    }
    return 0;
}
