// threads_100k: 100,000 simultaneously live threads, each blocked in a 1 s
// nanosleep, multiplexed onto a handful of OS threads.
//
// Why: this is greenrun's headline property.  Natively every pthread is a
// kernel task (pid_max is 32768 here, so 100,000 is impossible); under
// greenrun a thread blocked in nanosleep is a parked green thread and must
// not pin an OS thread.  We check:
//   - all 100,000 pthread_create calls succeed;
//   - each thread's return value (its index) reaches pthread_join intact;
//   - the process's OS thread count ("Threads:" in /proc/self/status),
//     sampled repeatedly while the threads are created and while they sleep,
//     never exceeds P + 4, where P = $GREENRUN_PROCS if set, else the number
//     of online CPUs (the M's running P's plus a few runtime helpers).
// Every thread bumps an atomic counter just before it sleeps; main waits
// (nanosleep-polling the counter, bounded) until all have started, so at least
// one sample is taken while (nearly) all of them are parked in nanosleep.  A
// thread that already finished its sleep is harmless: the check is only about
// the maximum number of OS threads.
//
// Optional argv[1] overrides the thread count (for native sanity checks of
// the test logic with a small count).
//
// Not run natively: 100,000 kernel threads cannot exist here (pid_max 32768).
// greenrun-test: native=no
// greenrun-test: env=GREENRUN_PROCS=1
// greenrun-test: env=GREENRUN_PROCS=2
// greenrun-test: timeout=180
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

#define DEFAULT_N 100000

static atomic_long started;

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "FAIL threads_100k: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

/* Value of "NAME:" in /proc/self/status, or -1. */
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

static long max_threads_seen;
static const char *max_where = "";

static void sample(const char *where)
{
    long t = status_field("Threads");
    if (t < 0)
        die("cannot read Threads: from /proc/self/status");
    if (t > max_threads_seen) {
        max_threads_seen = t;
        max_where = where;
    }
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
    struct timespec ts = { 1, 0 };
    while (nanosleep(&ts, &ts) != 0) {
        if (errno != EINTR) {
            fprintf(stderr, "FAIL threads_100k: nanosleep: %s\n", strerror(errno));
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

    long procs;
    const char *env = getenv("GREENRUN_PROCS");
    if (env && *env)
        procs = strtol(env, NULL, 10);
    else
        procs = sysconf(_SC_NPROCESSORS_ONLN);
    if (procs <= 0)
        die("cannot determine P (GREENRUN_PROCS='%s')", env ? env : "");
    long limit = procs + 4;

    pthread_t *tids = malloc(n * sizeof *tids);
    if (!tids)
        die("malloc");

    sample("start");
    double t0 = now_s();
    for (long i = 0; i < n; i++) {
        int rc = pthread_create(&tids[i], NULL, worker, (void *)(uintptr_t)i);
        if (rc != 0)
            die("pthread_create #%ld of %ld: expected 0, got %d (%s)", i, n, rc, strerror(rc));
        if (i % 10000 == 9999)
            sample("during creation");
    }
    double t1 = now_s();
    sample("after creating all");

    /* Wait until every thread has entered its sleep (bounded). */
    double deadline = now_s() + 120;
    while (atomic_load(&started) < n) {
        sample("waiting for all to start");
        if (now_s() > deadline)
            die("only %ld of %ld threads started within 120 s", (long)atomic_load(&started), n);
        struct timespec ts = { 0, 1000000 };
        nanosleep(&ts, NULL);
    }
    for (int k = 0; k < 5; k++)
        sample("all started");
    double t2 = now_s();

    for (long i = 0; i < n; i++) {
        void *ret = (void *)-1;
        int rc = pthread_join(tids[i], &ret);
        if (rc != 0)
            die("pthread_join #%ld: expected 0, got %d (%s)", i, rc, strerror(rc));
        if ((uintptr_t)ret != (uintptr_t)i)
            die("thread #%ld returned %lu, expected %ld", i, (unsigned long)(uintptr_t)ret, i);
        if (i == n / 2)
            sample("half joined");
    }
    double t3 = now_s();

    printf("threads=%ld procs=%ld max_os_threads=%ld (limit %ld, at '%s') "
           "create_s=%.3f all_started_s=%.3f join_s=%.3f\n",
           n, procs, max_threads_seen, limit, max_where, t1 - t0, t2 - t0, t3 - t2);
    if (max_threads_seen > limit)
        die("OS thread count: expected <= %ld (P=%ld + 4), got %ld (sampled %s)",
            limit, procs, max_threads_seen, max_where);
    free(tids);
    return 0;
}
