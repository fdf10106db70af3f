// yield: sched_yield ping-pong between two threads.
//
//   yield [M]      (M round trips, default 200000)
//
// Thread A increments a shared atomic counter when it is even, thread B when
// it is odd; each spins with sched_yield() between checks.  One round trip
// is two increments (A then B).  Prints yield_roundtrip_ns=X.
// Meant for one CPU: natively under `taskset -c 0`, under greenrun with
// GREENRUN_PROCS=1, so that every hand-over is a yield to the other thread.
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static atomic_long counter;
static long limit;

static void *player(void *arg)
{
    long parity = (long)(intptr_t)arg;
    for (;;) {
        long c = atomic_load_explicit(&counter, memory_order_acquire);
        if (c >= limit)
            break;
        if ((c & 1) == parity)
            atomic_store_explicit(&counter, c + 1, memory_order_release);
        else
            sched_yield();
    }
    return NULL;
}

int main(int argc, char **argv)
{
    long m = argc > 1 ? strtol(argv[1], NULL, 10) : 200000;
    if (m <= 0) {
        fprintf(stderr, "usage: yield [round-trips]\n");
        return 2;
    }
    limit = 2 * m;
    struct timespec a, b;
    pthread_t ta, tb;
    clock_gettime(CLOCK_MONOTONIC, &a);
    int rc = pthread_create(&ta, NULL, player, (void *)0);
    if (rc == 0)
        rc = pthread_create(&tb, NULL, player, (void *)1);
    if (rc != 0) {
        fprintf(stderr, "yield: pthread_create: %s\n", strerror(rc));
        return 1;
    }
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    clock_gettime(CLOCK_MONOTONIC, &b);
    double ns = (b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec);
    if (atomic_load(&counter) != limit) {
        fprintf(stderr, "yield: counter %ld, expected %ld\n", atomic_load(&counter), limit);
        return 1;
    }
    printf("yield_roundtrip_ns=%.1f\n", ns / m);
    return 0;
}
