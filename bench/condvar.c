// condvar: pthread condition variable ping-pong round trip.
//
//   condvar [M]      (M round trips, default 100000)
//
// Two threads share a mutex, a condvar and a turn variable: each waits
// (pthread_cond_wait in a predicate loop) until it is its turn, passes the
// turn to the other and signals.  One round trip is two hand-overs (A to B
// and back).  Prints condvar_roundtrip_ns=X; exit 1 if the turn counts are
// not exact.  A benchmark, not a test.
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t c = PTHREAD_COND_INITIALIZER;
static int turn;
static long rounds, count[2];

static void *player(void *arg)
{
    int me = (int)(intptr_t)arg;
    for (long r = 0; r < rounds; r++) {
        pthread_mutex_lock(&m);
        while (turn != me)
            pthread_cond_wait(&c, &m);
        count[me]++;
        turn = !me;
        pthread_cond_signal(&c);
        pthread_mutex_unlock(&m);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    rounds = argc > 1 ? strtol(argv[1], NULL, 10) : 100000;
    if (rounds <= 0) {
        fprintf(stderr, "usage: condvar [round-trips]\n");
        return 2;
    }
    struct timespec a, b;
    pthread_t ta, tb;
    clock_gettime(CLOCK_MONOTONIC, &a);
    int rc = pthread_create(&ta, NULL, player, (void *)0);
    if (rc == 0)
        rc = pthread_create(&tb, NULL, player, (void *)1);
    if (rc != 0) {
        fprintf(stderr, "condvar: pthread_create: %s\n", strerror(rc));
        return 1;
    }
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    clock_gettime(CLOCK_MONOTONIC, &b);
    if (count[0] != rounds || count[1] != rounds) {
        fprintf(stderr, "condvar: counts %ld/%ld, expected %ld\n", count[0], count[1], rounds);
        return 1;
    }
    double ns = (b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec);
    printf("condvar_roundtrip_ns=%.1f\n", ns / rounds);
    return 0;
}
