// diag_nodeadlock: the deadlock check must not cry wolf.
//
// Why: a deadlock report that fires while something can still wake a
// thread would kill correct programs under GREENRUN_DEADLOCK=abort (the
// failure DESIGN.md section 8 item 7 warns about).  In each phase every
// thread but one is blocked on synchronisation (a condition variable, a
// join), and the last one will be woken by something outside the
// synchronisation graph, ~300 ms later:
//   1. timer:   main sleeps (nanosleep), then broadcasts the condvar;
//   2. fd:      a thread blocks in read() on a pipe that a child process
//               writes after its own sleep;
//   3. syscall: a thread blocks in waitpid() for a child that sleeps;
//   4. signal:  a thread waits in sem_wait; a SIGALRM handler (setitimer)
//               posts the semaphore.
// With GREENRUN_DEADLOCK=abort any false report ends the process with
// status 2 and the report on stderr; the test passes when the program
// ends normally (exit 0) having seen every phase complete.
// The sleeps here are the scenario (time in which all threads are
// blocked), not synchronisation: shorter sleeps only make the test weaker.
// greenrun-test: env=GREENRUN_DEADLOCK=abort GREENRUN_PROCS=2
// greenrun-test: env=GREENRUN_DEADLOCK=abort GREENRUN_PROCS=1
// greenrun-test: timeout=60
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TEST_NAME "diag_nodeadlock"
#include "sync_util.h"

#define NWAIT 20

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int phase_done;
static int pipefd[2];
static sem_t sem;
static pid_t child;

static void *cond_waiter(void *arg)
{
    int want = (int)(long)arg;
    pthread_mutex_lock(&mu);
    while (phase_done < want)
        pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
    return NULL;
}

static void finish_phase(int n)
{
    pthread_mutex_lock(&mu);
    phase_done = n;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
}

static void *reader(void *arg)
{
    char c;
    if (read(pipefd[0], &c, 1) != 1)
        die("read from the pipe failed: %s", strerror(errno));
    finish_phase(2);
    return NULL;
}

static void *reaper(void *arg)
{
    int st;
    if (waitpid(child, &st, 0) != child)
        die("waitpid: %s", strerror(errno));
    finish_phase(3);
    return NULL;
}

static void *sem_waiter(void *arg)
{
    while (sem_wait(&sem) != 0)
        if (errno != EINTR)
            die("sem_wait: %s", strerror(errno));
    finish_phase(4);
    return NULL;
}

static void on_alarm(int sig) { sem_post(&sem); }

static pid_t spawn_sleeper(int fd)
{
    pid_t p = fork();
    if (p < 0)
        die("fork: %s", strerror(errno));
    if (p == 0) {
        struct timespec ts = {0, 300 * 1000000L};
        nanosleep(&ts, NULL);
        if (fd >= 0 && write(fd, "x", 1) != 1)
            _exit(1);
        _exit(0);
    }
    return p;
}

static void run_phase(int n, void *(*fn)(void *))
{
    pthread_t t[NWAIT + 1];
    for (int i = 0; i < NWAIT; i++)
        if (pthread_create(&t[i], NULL, cond_waiter, (void *)(long)n))
            die("pthread_create");
    if (fn && pthread_create(&t[NWAIT], NULL, fn, NULL))
        die("pthread_create");
    if (!fn) { /* phase 1: main itself sleeps, then wakes everyone */
        ms_sleep(300);
        finish_phase(1);
    }
    for (int i = 0; i < NWAIT + (fn != NULL); i++)
        pthread_join(t[i], NULL);
    if (phase_done != n)
        die("phase %d ended with phase_done %d", n, phase_done);
}

int main(void)
{
    run_phase(1, NULL);

    if (pipe(pipefd) != 0)
        die("pipe");
    child = spawn_sleeper(pipefd[1]);
    run_phase(2, reader);
    waitpid(child, NULL, 0);

    child = spawn_sleeper(-1);
    run_phase(3, reaper);

    sem_init(&sem, 0, 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval it = {{0, 0}, {0, 300000}};
    setitimer(ITIMER_REAL, &it, NULL);
    run_phase(4, sem_waiter);

    printf("all 4 phases completed\n");
    return 0;
}
