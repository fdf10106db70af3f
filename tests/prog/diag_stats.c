// diag_stats: GREENRUN_STATS=1 prints the exit report (counters, then the
// threads still blocked at exit grouped by stack: the leak report), and
// GREENRUN_SCHEDTRACE prints scheduler lines, the last one at exit.
//
// Why: issue #5 asks for both so a user can see what a program did and
// which threads it forgot.  The program: 10 "leak-cond" threads block
// forever in pthread_cond_wait and 5 "leak-read" threads in read() on a
// pipe nobody writes; then 1,000 workers start, each waits until all
// 1,000 exist (a counter + condvar: so exactly 1 + 15 + 1,000 = 1,016
// threads are alive at the peak), takes a shared mutex 100 times with a
// sched_yield inside, and exits; main joins them and returns.
// Checks (stderr): "threads created 1015, peak live 1016, still live 16";
// the counter lines exist with numbers; the leak report has one entry for
// the 10 cond waiters (leak_cond on the stack) and one for the 5 readers
// (leak_read), and no worker; a schedtrace line with procs=N.
// greenrun-test: native=no
// greenrun-test: env=GREENRUN_STATS=1 GREENRUN_SCHEDTRACE=20 GREENRUN_PROCS=2
// greenrun-test: env=GREENRUN_STATS=1 GREENRUN_SCHEDTRACE=20 GREENRUN_PROCS=1
// greenrun-test: timeout=60
// greenrun-test: expect-stderr=^greenrun: stats: threads created 1015, peak live 1016, still live 16$
// greenrun-test: expect-stderr=^greenrun: stats: context switches [0-9]+, steals [0-9]+, netpoll waits [0-9]+$
// greenrun-test: expect-stderr=^greenrun: stats: syscall handoffs [0-9]+, preemptions [0-9]+$
// greenrun-test: expect-stderr=^greenrun: stats: peak OS threads [0-9]+ \(\+ sysmon\), peak stack bytes [0-9]+, stacks given back [0-9]+$
// greenrun-test: expect-stderr=^greenrun: threads still blocked at exit$
// greenrun-test: expect-stderr=^greenrun: pid [0-9]+, 15 threads \(2 groups\)
// greenrun-test: expect-stderr=^10 threads \(ids [0-9]+\.\.[0-9]+, "leak-cond"\): cond, waiting
// greenrun-test: expect-stderr=^    leak_cond\+0x[0-9a-f]+ \(diag_stats\)$
// greenrun-test: expect-stderr=^5 threads \(ids [0-9]+\.\.[0-9]+, "leak-read"\): IO wait, waiting
// greenrun-test: expect-stderr=^    leak_read\+0x[0-9a-f]+ \(diag_stats\)$
// greenrun-test: expect-stderr=^greenrun SCHED [0-9]+ms: procs=[12] idleprocs=[0-9]+ threads=[0-9]+ spinning=[0-9]+ idlethreads=[0-9]+ runqueue=[0-9]+ live=[0-9]+ \[[0-9 ]+\]$
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define TEST_NAME "diag_stats"
#include "sync_util.h"

#define NWORK 1000

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER, never = PTHREAD_COND_INITIALIZER;
static int started, counter;
static int fds[2];

__attribute__((noinline)) static void *leak_cond(void *arg)
{
    pthread_mutex_lock(&mu);
    for (;;)
        pthread_cond_wait(&never, &mu);
    return arg;
}

__attribute__((noinline)) static void *leak_read(void *arg)
{
    char c;
    if (read(fds[0], &c, 1) >= 0)
        die("read returned");
    return arg;
}

static void *worker(void *arg)
{
    pthread_mutex_lock(&mu);
    if (++started == NWORK)
        pthread_cond_broadcast(&cv);
    while (started < NWORK)
        pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
    for (int i = 0; i < 100; i++) {
        pthread_mutex_lock(&mu);
        counter++;
        sched_yield();
        pthread_mutex_unlock(&mu);
    }
    return arg;
}

int main(void)
{
    pthread_t t, w[NWORK];
    if (pipe(fds))
        die("pipe");
    pthread_setname_np(pthread_self(), "leak-cond");
    for (int i = 0; i < 10; i++)
        if (pthread_create(&t, NULL, leak_cond, NULL))
            die("create");
    pthread_setname_np(pthread_self(), "leak-read");
    for (int i = 0; i < 5; i++)
        if (pthread_create(&t, NULL, leak_read, NULL))
            die("create");
    pthread_setname_np(pthread_self(), "worker");
    for (int i = 0; i < NWORK; i++)
        if (pthread_create(&w[i], NULL, worker, NULL))
            die("create worker %d", i);
    for (int i = 0; i < NWORK; i++)
        pthread_join(w[i], NULL);
    if (counter != NWORK * 100)
        die("counter %d", counter);
    return 0;
}
