// diag_fatal: a fatal greenrun error prints a dump of every thread before
// the process aborts.
//
// Why: issue #5 asks for a dump on every fatal greenrun error, so that a
// crash report says what all threads were doing.  The easiest fatal error
// to provoke on purpose is the OS-thread limit: with GREENRUN_MAXTHREADS=4,
// 8 threads block in waitpid() for children that sleep; each blocked
// system call gets its P handed to a new OS thread until the limit is
// exceeded, and greenrun stops with "fatal error: thread limit exceeded".
// 20 "bystander" threads wait on a condition variable meanwhile.  Checks:
// SIGABRT, the fatal message, the dump title, the 20 bystanders grouped
// with bystander() on the stack, and the end of the dump.
// greenrun-test: native=no
// greenrun-test: env=GREENRUN_MAXTHREADS=4 GREENRUN_PROCS=1
// greenrun-test: expect-signal=ABRT
// greenrun-test: timeout=60
// greenrun-test: expect-stderr=^greenrun: fatal error: thread limit exceeded$
// greenrun-test: expect-stderr=^greenrun: thread dump \(fatal error\): thread limit exceeded$
// greenrun-test: expect-stderr=^20 threads \(ids [0-9]+\.\.[0-9]+, "bystander"\): cond, waiting
// greenrun-test: expect-stderr=^    bystander\+0x[0-9a-f]+ \(diag_fatal\)$
// greenrun-test: expect-stderr=^greenrun: end of thread dump \(fatal error\)
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t never = PTHREAD_COND_INITIALIZER;

__attribute__((noinline)) static void *bystander(void *arg)
{
    pthread_mutex_lock(&mu);
    for (;;)
        pthread_cond_wait(&never, &mu);
    return arg;
}

static void *reaper(void *arg)
{
    pid_t p = fork();
    if (p == 0) {
        struct timespec ts = {5, 0};
        nanosleep(&ts, NULL);
        _exit(0);
    }
    waitpid(p, NULL, 0); /* blocks its OS thread: a handoff */
    return arg;
}

int main(void)
{
    pthread_t t;
    pthread_setname_np(pthread_self(), "bystander");
    for (int i = 0; i < 20; i++)
        pthread_create(&t, NULL, bystander, NULL);
    pthread_setname_np(pthread_self(), "reaper");
    pthread_t r[8];
    for (int i = 0; i < 8; i++)
        pthread_create(&r[i], NULL, reaper, NULL);
    for (int i = 0; i < 8; i++)
        pthread_join(r[i], NULL);
    fprintf(stderr, "FAIL diag_fatal: the thread limit was not enforced\n");
    return 1;
}
