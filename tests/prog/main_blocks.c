// main_blocks: on a single P, main blocking (nanosleep, pthread_join, a
// blocking read() on a pipe) does not stop the other threads from running.
//
// Why: with GREENRUN_PROCS=1 there is one logical processor.  If the main
// thread blocked its OS thread while holding that P, nothing else could run
// and the program would hang.  Blocking must park the green thread (timers,
// joins) or hand the P to another OS thread (a real blocking syscall), so:
//   1. main creates a worker that counts to 1000 with sched_yield between
//      steps and sets a flag; main waits for the flag by nanosleep-polling.
//   2. a chain of 10 threads: thread k nanosleep-polls until thread k-1 has
//      set its flag, then takes a ticket and sets its own; thread 0 waits for
//      a flag main sets after creating all 10.  Main then blocks in
//      pthread_join on them, last first.  Tickets must be 0..9 in order.
//   3. main blocks in read() on an empty pipe; a thread nanosleep-polls until
//      main has announced it is about to read, waits a little more (a few
//      sleeps), then writes 8 bytes; main's read returns exactly them.
// Every wait is bounded; a hang is also caught by the runner's timeout.
// greenrun-test: env=GREENRUN_PROCS=1
// greenrun-test: timeout=60
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CHAIN 10

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "FAIL main_blocks: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void ms_sleep(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

/* nanosleep-poll until *f != 0, failing after 30 s. */
static void poll_flag(atomic_int *f, const char *who)
{
    double deadline = now_s() + 30;
    while (!atomic_load(f)) {
        if (now_s() > deadline)
            die("%s: flag not set within 30 s (blocked thread starving the others?)", who);
        ms_sleep(1);
    }
}

/* 1. */
static atomic_int counted, count_done;
static void *counter_thread(void *arg)
{
    (void)arg;
    for (int i = 0; i < 1000; i++) {
        atomic_fetch_add(&counted, 1);
        sched_yield();
    }
    atomic_store(&count_done, 1);
    return (void *)(intptr_t)1000;
}

/* 2. */
static atomic_int chain_flag[CHAIN + 1];   /* [0] is set by main */
static atomic_int ticket;
static int ticket_of[CHAIN];
static void *chain_thread(void *arg)
{
    int k = (int)(intptr_t)arg;
    char who[32];
    snprintf(who, sizeof who, "chain thread %d", k);
    poll_flag(&chain_flag[k], who);
    ticket_of[k] = atomic_fetch_add(&ticket, 1);
    atomic_store(&chain_flag[k + 1], 1);
    return (void *)(intptr_t)(k + 100);
}

/* 3. */
static int pipefd[2];
static atomic_int main_reading;
static void *writer_thread(void *arg)
{
    (void)arg;
    poll_flag(&main_reading, "writer");
    for (int i = 0; i < 5; i++)
        ms_sleep(2);     /* main is (very likely) inside read() by now; either way the result is the same */
    const char msg[8] = "greenrn";
    if (write(pipefd[1], msg, sizeof msg) != (ssize_t)sizeof msg)
        die("writer: write: %s", strerror(errno));
    return NULL;
}

int main(void)
{
    /* 1 */
    pthread_t t;
    int rc = pthread_create(&t, NULL, counter_thread, NULL);
    if (rc != 0)
        die("pthread_create(counter): %s", strerror(rc));
    poll_flag(&count_done, "main waiting for counter");
    void *ret;
    if ((rc = pthread_join(t, &ret)) != 0 || ret != (void *)(intptr_t)1000)
        die("join(counter): expected rc 0 value 1000, got rc %d value %ld", rc, (long)(intptr_t)ret);
    if (atomic_load(&counted) != 1000)
        die("counter: expected 1000, got %d", atomic_load(&counted));

    /* 2 */
    pthread_t chain[CHAIN];
    for (int k = 0; k < CHAIN; k++) {
        rc = pthread_create(&chain[k], NULL, chain_thread, (void *)(intptr_t)k);
        if (rc != 0)
            die("pthread_create(chain %d): %s", k, strerror(rc));
    }
    atomic_store(&chain_flag[0], 1);
    for (int k = CHAIN - 1; k >= 0; k--) {
        if ((rc = pthread_join(chain[k], &ret)) != 0 || ret != (void *)(intptr_t)(k + 100))
            die("join(chain %d): expected rc 0 value %d, got rc %d value %ld", k, k + 100, rc,
                (long)(intptr_t)ret);
    }
    for (int k = 0; k < CHAIN; k++)
        if (ticket_of[k] != k)
            die("chain thread %d got ticket %d, expected %d", k, ticket_of[k], k);

    /* 3 */
    if (pipe(pipefd) != 0)
        die("pipe: %s", strerror(errno));
    rc = pthread_create(&t, NULL, writer_thread, NULL);
    if (rc != 0)
        die("pthread_create(writer): %s", strerror(rc));
    atomic_store(&main_reading, 1);
    char buf[16] = { 0 };
    size_t got = 0;
    while (got < 8) {
        ssize_t n = read(pipefd[0], buf + got, 8 - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            die("read(pipe): expected data, got %zd (%s)", n, n < 0 ? strerror(errno) : "EOF");
        got += n;
    }
    if (memcmp(buf, "greenrn", 8) != 0)
        die("read(pipe): expected \"greenrn\", got \"%.8s\"", buf);
    if ((rc = pthread_join(t, NULL)) != 0)
        die("join(writer): %s", strerror(rc));
    close(pipefd[0]);
    close(pipefd[1]);

    printf("main_blocks: OK\n");
    return 0;
}
