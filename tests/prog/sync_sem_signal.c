// sync_sem_signal: POSIX semaphores and signal handlers.
//
// Why: sem_post is the one wake-up primitive POSIX makes async-signal-safe,
// so programs post semaphores from signal handlers (timers, SIGCHLD,
// SIGINT handling); and sem_wait is specified to be interrupted by a
// signal handler (-1/EINTR; on Linux even with SA_RESTART).  Under
// greenrun a handler may run on any OS thread of the process, in the
// middle of scheduling, and a parked green thread gets no kernel EINTR, so
// both need care.
//
// Checks:
//   - a POSIX timer sending SIGUSR2 to the process every 200 us, whose
//     handler does sem_post,
//     while 2 threads keep the scheduler busy (sched_yield loops) and 2
//     more do a mutex + condvar ping-pong; the main thread takes 2,000
//     units with sem_timedwait (EINTR retried).  Every wait must be woken
//     by a post: a wait that reaches its 5 s deadline is a failure (a lost
//     wake-up), and the whole phase must finish within 30 s (natively it
//     takes ~0.5 s).  Then the timer is stopped and the workers joined;
//   - sem_wait interrupted: a thread blocks in sem_wait on a semaphore
//     nobody posts; SIGUSR1 (handler installed without SA_RESTART) is sent
//     to it with pthread_kill -> its sem_wait returns -1/EINTR (checked
//     with a 10 s bound; the main thread posts afterwards so that a
//     non-interrupted wait still ends, and the result is then reported).
// A SIGALRM watchdog (60 s) turns a hang into a message.
// greenrun-test: env=GREENRUN_PROCS=1
// greenrun-test: env=GREENRUN_PROCS=2
// greenrun-test: timeout=90
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "FAIL sync_sem_signal: ");
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
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
        ;
}

/* ---------------- sem_post from a handler ---------------- */
#define UNITS 2000
static sem_t s;
static atomic_int stop, handler_posts, post_errors;
static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t c = PTHREAD_COND_INITIALIZER;
static int turn;
static long pp_rounds;

static void on_watchdog(int sig)
{
    (void)sig;
    char buf[200];
    int n = snprintf(buf, sizeof buf, "FAIL sync_sem_signal: watchdog: stuck for 60 s (%d handler posts so far)\n",
                     atomic_load(&handler_posts));
    (void)!write(2, buf, n);
    _exit(1);
}

static void on_tick(int sig)
{
    (void)sig;
    int e = errno;
    if (sem_post(&s) == 0)
        atomic_fetch_add(&handler_posts, 1);
    else
        atomic_fetch_add(&post_errors, 1);
    errno = e;
}

static void *yielder(void *arg)
{
    (void)arg;
    while (!atomic_load(&stop))
        sched_yield();
    return NULL;
}

static void *pingpong(void *arg)
{
    int me = (int)(intptr_t)arg;
    while (!atomic_load(&stop)) {
        pthread_mutex_lock(&m);
        while (turn != me && !atomic_load(&stop))
            pthread_cond_wait(&c, &m);
        turn = !me;
        pp_rounds++;
        pthread_cond_broadcast(&c);
        pthread_mutex_unlock(&m);
    }
    return NULL;
}

static void test_post_from_handler(void)
{
    if (sem_init(&s, 0, 0) != 0)
        die("sem_init: %s", strerror(errno));
    struct sigaction sa = { .sa_handler = on_tick, .sa_flags = SA_RESTART };
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGUSR2, &sa, NULL) != 0)
        die("sigaction: %s", strerror(errno));
    pthread_t w[4];
    for (int i = 0; i < 2; i++)
        if (pthread_create(&w[i], NULL, yielder, NULL))
            die("pthread_create failed");
    for (int i = 0; i < 2; i++)
        if (pthread_create(&w[2 + i], NULL, pingpong, (void *)(intptr_t)i))
            die("pthread_create failed");
    /* a process-directed SIGUSR2 every 200 us */
    struct sigevent ev = { .sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGUSR2 };
    timer_t tm;
    if (timer_create(CLOCK_MONOTONIC, &ev, &tm) != 0)
        die("timer_create: %s", strerror(errno));
    struct itimerspec its = { { 0, 200000 }, { 0, 200000 } };
    if (timer_settime(tm, 0, &its, NULL) != 0)
        die("timer_settime: %s", strerror(errno));

    double t0 = now_s();
    int late = 0;
    for (int got = 0; got < UNITS;) {
        struct timespec dl;
        clock_gettime(CLOCK_REALTIME, &dl);
        dl.tv_sec += 5;
        if (sem_timedwait(&s, &dl) == 0) {
            struct timespec now;
            clock_gettime(CLOCK_REALTIME, &now);
            if (now.tv_sec > dl.tv_sec || (now.tv_sec == dl.tv_sec && now.tv_nsec >= dl.tv_nsec))
                late++;
            got++;
        } else if (errno != EINTR) {
            die("sem_timedwait for unit %d of %d: %s (%d posts by the handler so far: the posts did not "
                "wake the waiter)", got + 1, UNITS, strerror(errno), atomic_load(&handler_posts));
        }
        if (now_s() - t0 > 30)
            die("only %d of %d units taken in 30 s although the handler posted %d times", got, UNITS,
                atomic_load(&handler_posts));
    }
    timer_delete(tm);
    atomic_store(&stop, 1);
    pthread_mutex_lock(&m);
    pthread_cond_broadcast(&c);
    pthread_mutex_unlock(&m);
    for (int i = 0; i < 4; i++)
        if (pthread_join(w[i], NULL))
            die("pthread_join failed");
    if (late)
        die("%d sem_timedwait calls succeeded only at their deadline: a post from the handler did not "
            "wake the waiter", late);
    if (atomic_load(&post_errors))
        die("sem_post in the handler failed %d times", atomic_load(&post_errors));
    int v = -1;
    sem_getvalue(&s, &v);
    if (v + UNITS != atomic_load(&handler_posts))
        die("units: %d taken + %d left != %d posted", UNITS, v, atomic_load(&handler_posts));
    signal(SIGUSR2, SIG_IGN);
}

/* ---------------- sem_wait interrupted ---------------- */
static sem_t s2;
static atomic_int usr1_handled, waiter_started, waiter_done;
static int w_rc, w_err;

static void on_usr1(int sig)
{
    (void)sig;
    atomic_store(&usr1_handled, 1);
}

static void *blocked_waiter(void *arg)
{
    (void)arg;
    atomic_store(&waiter_started, 1);
    errno = 0;
    w_rc = sem_wait(&s2);
    w_err = errno;
    atomic_store(&waiter_done, 1);
    return NULL;
}

static void test_eintr(void)
{
    if (sem_init(&s2, 0, 0) != 0)
        die("sem_init: %s", strerror(errno));
    struct sigaction sa = { .sa_handler = on_usr1, .sa_flags = 0 };
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGUSR1, &sa, NULL) != 0)
        die("sigaction: %s", strerror(errno));
    pthread_t t;
    if (pthread_create(&t, NULL, blocked_waiter, NULL))
        die("pthread_create failed");
    double deadline = now_s() + 10;
    while (!atomic_load(&waiter_started)) {
        if (now_s() > deadline)
            die("waiter did not start");
        ms_sleep(1);
    }
    ms_sleep(50);   /* let it block in sem_wait (a signal before that is retried below) */
    int rc = pthread_kill(t, SIGUSR1);
    if (rc)
        die("pthread_kill: %s", strerror(rc));
    deadline = now_s() + 10;
    while (!atomic_load(&waiter_done) && now_s() < deadline) {
        ms_sleep(1);
        /* a signal that came before the wait blocked interrupts nothing: resend */
        if (atomic_load(&usr1_handled) && !atomic_load(&waiter_done)) {
            atomic_store(&usr1_handled, 0);
            ms_sleep(20);
            if (!atomic_load(&waiter_done))
                pthread_kill(t, SIGUSR1);
        }
    }
    int done = atomic_load(&waiter_done);
    if (!done)
        sem_post(&s2);    /* end the wait so that we can report */
    if (pthread_join(t, NULL))
        die("pthread_join failed");
    if (!done)
        die("sem_wait was not interrupted by SIGUSR1 handlers within 10 s (it then returned %d, errno %d "
            "after a sem_post); expected -1/EINTR", w_rc, w_err);
    if (w_rc != -1 || w_err != EINTR)
        die("sem_wait interrupted by a handler: expected -1/EINTR, got %d errno %d (%s)", w_rc, w_err,
            strerror(w_err));
}

int main(void)
{
    signal(SIGALRM, on_watchdog);
    alarm(60);
    test_post_from_handler();
    test_eintr();
    printf("sync_sem_signal: OK\n");
    return 0;
}
