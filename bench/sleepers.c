// sleepers: N threads in a loop of short sleeps; wake-ups per second.
//
//   sleepers [N] [SLEEP_US] [SECONDS]    (defaults 10000, 10000, 2)
//
// Each thread waits until all are created (natively, threads already
// sleeping and waking would starve main's creation loop), then loops
// { nanosleep(SLEEP_US); count++ } until told to stop.  Main counts the wake-ups of all threads
// over SECONDS (its own nanosleep) and prints sleepers_wakeups_per_s=X
// (the ideal is N * 1e6 / SLEEP_US) and sleepers_ideal_pct=Y.  A thread
// that cannot be created is an error (exit 1).  A benchmark, not a test.
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct slot {
    _Atomic long count;
    char pad[56];
};

static struct slot *slots;
static atomic_int stop;
static atomic_long started;
static long sleep_us;
static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t go = PTHREAD_COND_INITIALIZER;
static int released;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *sleeper(void *arg)
{
    struct slot *s = arg;
    struct timespec ts = {.tv_sec = sleep_us / 1000000, .tv_nsec = sleep_us % 1000000 * 1000};
    atomic_fetch_add(&started, 1);
    pthread_mutex_lock(&m);
    while (!released)
        pthread_cond_wait(&go, &m);
    pthread_mutex_unlock(&m);
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        nanosleep(&ts, NULL);
        atomic_fetch_add_explicit(&s->count, 1, memory_order_relaxed);
    }
    return NULL;
}

static long total(long n)
{
    long t = 0;
    for (long i = 0; i < n; i++)
        t += atomic_load_explicit(&slots[i].count, memory_order_relaxed);
    return t;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : 10000;
    sleep_us = argc > 2 ? strtol(argv[2], NULL, 10) : 10000;
    double secs = argc > 3 ? atof(argv[3]) : 2;
    if (n <= 0 || sleep_us <= 0 || secs <= 0) {
        fprintf(stderr, "usage: sleepers [N] [SLEEP_US] [SECONDS]\n");
        return 2;
    }
    slots = calloc(n, sizeof *slots);
    pthread_t *t = calloc(n, sizeof *t);
    if (!slots || !t) {
        fprintf(stderr, "sleepers: out of memory\n");
        return 1;
    }
    for (long i = 0; i < n; i++) {
        int rc = pthread_create(&t[i], NULL, sleeper, &slots[i]);
        if (rc != 0) {
            fprintf(stderr, "sleepers: pthread_create #%ld: %s\n", i, strerror(rc));
            return 1;
        }
    }
    struct timespec ms = {0, 1000000};
    while (atomic_load(&started) < n)
        nanosleep(&ms, NULL);
    pthread_mutex_lock(&m);
    released = 1;
    pthread_cond_broadcast(&go);
    pthread_mutex_unlock(&m);
    nanosleep(&(struct timespec){0, 200000000}, NULL); /* settle */
    long c0 = total(n);
    double t0 = now();
    struct timespec d = {.tv_sec = (time_t)secs, .tv_nsec = (long)((secs - (time_t)secs) * 1e9)};
    nanosleep(&d, NULL);
    long c1 = total(n);
    double t1 = now();
    atomic_store(&stop, 1);
    for (long i = 0; i < n; i++)
        pthread_join(t[i], NULL);
    double rate = (c1 - c0) / (t1 - t0);
    printf("sleepers_wakeups_per_s=%.0f\n", rate);
    printf("sleepers_ideal_pct=%.1f\n", 100 * rate / (n * 1e6 / sleep_us));
    return 0;
}
