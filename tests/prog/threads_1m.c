// threads_1m: 1,000,000 threads alive at the same time, all blocked in
// nanosleep, with the default pthread attributes (default stack size).
//
// Why: the memory cost of a parked green thread (its lazily committed stack
// slot plus its own glibc TLS block) is what decides how many threads fit.
// Natively this is impossible (pid_max 32768, and 1M default 8 MiB stacks).
//
// Each thread bumps an atomic counter, then loops
//     while (!go) nanosleep(POLL)
// so that it is parked in nanosleep until main has created all of them and
// taken its measurement.  Main waits (bounded) until the counter reaches N,
// reads VmRSS and VmPTE from /proc/self/status before creation and when all
// are alive, prints
//     rss_per_thread_bytes=X pte_per_thread_bytes=Y
// then sets go and joins everything.  Checks: every pthread_create returns 0,
// every thread started, every join returns 0 with the thread's own index.
// There is no memory limit asserted here: the numbers are reported.
//
// POLL is 1 s rather than a few ms: with 1M sleepers a 10 ms poll would mean
// 100M wake-ups per second, which would measure the timer code rather than
// parked threads.  After go, every thread notices within one POLL.
//
// Optional argv[1] overrides the thread count (native sanity checks).
//
// Not run natively: 1,000,000 kernel threads cannot exist here (pid_max 32768).
// greenrun-test: native=no
// greenrun-test: timeout=300
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_N 1000000
#define POLL_NS 1000000000L

static atomic_long started;
static atomic_int go;

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "FAIL threads_1m: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

/* Value of "NAME:" in /proc/self/status (kB for Vm*), or -1. */
static long status_field(const char *name)
{
    char buf[8192];
    int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n, tot = 0;
    while (tot < (ssize_t)sizeof buf - 1 &&
           (n = read(fd, buf + tot, sizeof buf - 1 - tot)) > 0)
        tot += n;
    close(fd);
    buf[tot] = 0;
    size_t len = strlen(name);
    for (char *p = buf; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
        if (strncmp(p, name, len) == 0 && p[len] == ':')
            return strtol(p + len + 1, NULL, 10);
    }
    return -1;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *worker(void *arg)
{
    atomic_fetch_add(&started, 1);
    while (!atomic_load(&go)) {
        struct timespec ts = { POLL_NS / 1000000000L, POLL_NS % 1000000000L };
        if (nanosleep(&ts, NULL) != 0 && errno != EINTR) {
            fprintf(stderr, "FAIL threads_1m: nanosleep: %s\n", strerror(errno));
            exit(1);
        }
    }
    return arg;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : DEFAULT_N;
    if (n <= 0)
        die("bad thread count '%s'", argv[1]);

    pthread_t *tids = malloc(n * sizeof *tids);
    if (!tids)
        die("malloc");
    memset(tids, 0, n * sizeof *tids); /* commit it now, not during the measurement */

    long rss0 = status_field("VmRSS"), pte0 = status_field("VmPTE");
    if (rss0 < 0 || pte0 < 0)
        die("cannot read VmRSS/VmPTE from /proc/self/status");

    double t0 = now_s();
    for (long i = 0; i < n; i++) {
        int rc = pthread_create(&tids[i], NULL, worker, (void *)(uintptr_t)i);
        if (rc != 0)
            die("pthread_create #%ld of %ld: expected 0, got %d (%s)", i, n, rc, strerror(rc));
    }
    double t1 = now_s();

    double deadline = now_s() + 200;
    while (atomic_load(&started) < n) {
        if (now_s() > deadline)
            die("only %ld of %ld threads started within 200 s", (long)atomic_load(&started), n);
        struct timespec ts = { 0, 10000000 };
        nanosleep(&ts, NULL);
    }
    double t2 = now_s();

    long rss1 = status_field("VmRSS"), pte1 = status_field("VmPTE");
    long threads = status_field("Threads");
    if (rss1 < 0 || pte1 < 0)
        die("cannot read VmRSS/VmPTE from /proc/self/status");
    printf("threads=%ld os_threads=%ld create_s=%.3f all_started_s=%.3f "
           "rss_before_kb=%ld rss_alive_kb=%ld pte_before_kb=%ld pte_alive_kb=%ld\n",
           n, threads, t1 - t0, t2 - t0, rss0, rss1, pte0, pte1);
    printf("rss_per_thread_bytes=%ld pte_per_thread_bytes=%ld\n",
           (long)((rss1 - rss0) * 1024.0 / n), (long)((pte1 - pte0) * 1024.0 / n));
    fflush(stdout);

    atomic_store(&go, 1);
    for (long i = 0; i < n; i++) {
        void *ret = (void *)-1;
        int rc = pthread_join(tids[i], &ret);
        if (rc != 0)
            die("pthread_join #%ld: expected 0, got %d (%s)", i, rc, strerror(rc));
        if ((uintptr_t)ret != (uintptr_t)i)
            die("thread #%ld returned %lu, expected %ld", i, (unsigned long)(uintptr_t)ret, i);
    }
    printf("joined=%ld join_s=%.3f\n", n, now_s() - t2);
    free(tids);
    return 0;
}
