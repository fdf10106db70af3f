// live: how many idle threads can be alive at once, and what each costs.
//
//   live N [SECONDS]      (SECONDS: stop creating after this long, default 30)
//
// Creates up to N threads with default attributes; each one counts itself
// as started and blocks in pthread_cond_wait until main broadcasts.  Main
// stops creating at N, at the first pthread_create error (natively EAGAIN
// near kernel.pid_max) or after SECONDS.  Once every created thread has
// started, it samples VmRSS and VmPTE from /proc/self/status, releases
// them all and joins them.  Prints:
//   live_threads=K            threads alive at once
//   live_create_s=S           time to create them all
//   live_rss_kib_per_thread   (VmRSS at peak - VmRSS before) / K
//   live_pte_kib_per_thread   (VmPTE at peak - VmPTE before) / K
//   live_rss_mib              VmRSS at peak, MiB
//   live_total_s              create + release + join
//   live_stopped_by=N|error|time
// The kernel's own per-task memory (a 16 KiB kernel stack and the task
// struct of each native thread) is not in VmRSS.  A benchmark, not a test.
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t c = PTHREAD_COND_INITIALIZER;
static int released;
static atomic_long started;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static long status_kib(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    size_t kl = strlen(key);
    long v = -1;
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, key, kl) && line[kl] == ':') {
            v = strtol(line + kl + 1, NULL, 10);
            break;
        }
    fclose(f);
    return v;
}

static void *idle(void *arg)
{
    atomic_fetch_add(&started, 1);
    pthread_mutex_lock(&m);
    while (!released)
        pthread_cond_wait(&c, &m);
    pthread_mutex_unlock(&m);
    return arg;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : 100000;
    double limit = argc > 2 ? atof(argv[2]) : 30;
    if (n <= 0 || limit <= 0) {
        fprintf(stderr, "usage: live N [SECONDS]\n");
        return 2;
    }
    pthread_t *t = calloc(n, sizeof *t);
    if (!t) {
        fprintf(stderr, "live: out of memory\n");
        return 1;
    }
    long rss0 = status_kib("VmRSS"), pte0 = status_kib("VmPTE");
    const char *why = "N";
    double t0 = now();
    long k = 0;
    for (; k < n; k++) {
        int rc = pthread_create(&t[k], NULL, idle, NULL);
        if (rc != 0) {
            fprintf(stderr, "live: pthread_create #%ld: %s\n", k, strerror(rc));
            why = "error";
            break;
        }
        if ((k & 255) == 0 && now() - t0 > limit) {
            k++;
            why = "time";
            break;
        }
    }
    double t1 = now();
    struct timespec ms = {0, 1000000};
    while (atomic_load(&started) < k)
        nanosleep(&ms, NULL);
    long rss = status_kib("VmRSS"), pte = status_kib("VmPTE");
    pthread_mutex_lock(&m);
    released = 1;
    pthread_cond_broadcast(&c);
    pthread_mutex_unlock(&m);
    for (long i = 0; i < k; i++)
        pthread_join(t[i], NULL);
    double t2 = now();
    printf("live_threads=%ld\n", k);
    printf("live_create_s=%.3f\n", t1 - t0);
    printf("live_rss_kib_per_thread=%.2f\n", k ? (double)(rss - rss0) / k : 0);
    printf("live_pte_kib_per_thread=%.2f\n", k ? (double)(pte - pte0) / k : 0);
    printf("live_rss_mib=%.1f\n", rss / 1024.0);
    printf("live_total_s=%.3f\n", t2 - t0);
    printf("live_stopped_by=%s\n", why);
    return 0;
}
