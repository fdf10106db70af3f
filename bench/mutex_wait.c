// mutex_wait: how long a thread waits for a mutex that HOGS other threads
// keep re-taking in a tight loop (each holds it for ~200 increments).
//
//   mutex_wait [HOGS] [TRIES]     (defaults 2 and 20)
//
// After the hogs run, TRIES times: a new thread takes the mutex once; the
// time from its first attempt to having it is its wait.  Prints
// mutex_wait_worst_ms=X and mutex_wait_avg_ms=Y.  Fair locks keep the
// worst near a scheduling slice; a lock that always lets a running thread
// in first can starve the newcomer for seconds.  A benchmark, not a test.
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static volatile int stop;
static volatile long work;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void *hog(void *arg)
{
    (void)arg;
    while (!stop) {
        pthread_mutex_lock(&m);
        for (int i = 0; i < 200; i++)
            work++;
        pthread_mutex_unlock(&m);
    }
    return NULL;
}

static void *once(void *arg)
{
    double *waited = arg, t0 = now_ms();
    pthread_mutex_lock(&m);
    *waited = now_ms() - t0;
    pthread_mutex_unlock(&m);
    return NULL;
}

int main(int argc, char **argv)
{
    int nh = argc > 1 ? atoi(argv[1]) : 2, tries = argc > 2 ? atoi(argv[2]) : 20;
    if (nh < 1 || nh > 64 || tries < 1) {
        fprintf(stderr, "usage: mutex_wait [hogs 1..64] [tries]\n");
        return 2;
    }
    pthread_t h[64];
    for (int i = 0; i < nh; i++)
        pthread_create(&h[i], NULL, hog, NULL);
    struct timespec gap = {0, 5000000};
    nanosleep(&gap, NULL);
    double worst = 0, sum = 0;
    for (int k = 0; k < tries; k++) {
        pthread_t t;
        double waited = 0;
        pthread_create(&t, NULL, once, &waited);
        pthread_join(t, NULL);
        if (waited > worst)
            worst = waited;
        sum += waited;
        nanosleep(&gap, NULL);
    }
    stop = 1;
    for (int i = 0; i < nh; i++)
        pthread_join(h[i], NULL);
    printf("mutex_wait_worst_ms=%.2f\nmutex_wait_avg_ms=%.2f\n", worst, sum / tries);
    return 0;
}
