// diag_sigquit_100k: SIGQUIT (GREENRUN_SIGQUIT_DUMP=1) dumps 100,000
// threads as a readable, grouped report, then the process dies of SIGQUIT.
//
// Why: a dump of a program with 100,000 threads is only useful if
// identical stacks collapse into one entry with a count (issue #5), and the
// SIGQUIT trigger must behave as the program expects: with no handler of
// its own, SIGQUIT still ends it (here after the dump), as natively.
//
// 100,000 threads named "sleeper" (inherited from main, which renames
// itself "main" afterwards) block in pthread_cond_wait (nobody signals),
// one "reader" blocks in read() on a pipe nobody writes.  Once all have announced
// themselves (a counter under the mutex, waited for with a second
// condvar: no sleeps), main raises SIGQUIT.  Checks on stderr: the dump
// title, one entry "100000 threads (ids 2..100001, "sleeper"): cond" with
// sleeper() on its stack, the reader's "IO wait fd N read" entry, and
// main; the process must die of SIGQUIT.
// greenrun-test: native=no
// greenrun-test: env=GREENRUN_SIGQUIT_DUMP=1
// greenrun-test: expect-signal=QUIT
// greenrun-test: timeout=180
// greenrun-test: expect-stderr=^greenrun: thread dump \(SIGQUIT\)$
// greenrun-test: expect-stderr=^greenrun: pid [0-9]+, 100002 threads \(3 groups\)
// greenrun-test: expect-stderr=^100000 threads \(ids 2\.\.100001, "sleeper"\): cond, waiting
// greenrun-test: expect-stderr=^    sleeper\+0x[0-9a-f]+ \(diag_sigquit_100k\)$
// greenrun-test: expect-stderr=^thread 100002 "reader": IO wait fd [0-9]+ read, waiting
// greenrun-test: expect-stderr=^    reader\+0x[0-9a-f]+ \(diag_sigquit_100k\)$
// greenrun-test: expect-stderr=^thread 1 "main" \(main\): signal wait
// greenrun-test: expect-stderr=^greenrun: end of thread dump \(SIGQUIT\) \(stacks read in [0-9.]+ s, dump [0-9.]+ s\)$
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define N 100000

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t never = PTHREAD_COND_INITIALIZER;
static pthread_cond_t counted = PTHREAD_COND_INITIALIZER;
static int arrived;
static int fds[2];

__attribute__((noinline)) static void *sleeper(void *arg)
{
    pthread_mutex_lock(&mu);
    if (++arrived == N + 1)
        pthread_cond_signal(&counted);
    for (;;)
        pthread_cond_wait(&never, &mu);
    return arg;
}

__attribute__((noinline)) static void *reader(void *arg)
{
    char c;
    pthread_setname_np(pthread_self(), "reader");
    pthread_mutex_lock(&mu);
    if (++arrived == N + 1)
        pthread_cond_signal(&counted);
    pthread_mutex_unlock(&mu);
    if (read(fds[0], &c, 1) >= 0) /* nobody writes */
        fprintf(stderr, "FAIL diag_sigquit_100k: read returned\n");
    return arg;
}

int main(void)
{
    pthread_attr_t a;
    pthread_t t;
    pthread_attr_init(&a);
    pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&a, 64 * 1024);
    if (pipe(fds))
        return 1;
    pthread_setname_np(pthread_self(), "sleeper"); /* new threads inherit it */
    for (int i = 0; i < N; i++) {
        if (pthread_create(&t, &a, sleeper, NULL)) {
            fprintf(stderr, "FAIL diag_sigquit_100k: pthread_create %d\n", i);
            return 1;
        }
    }
    pthread_setname_np(pthread_self(), "main");
    if (pthread_create(&t, &a, reader, NULL))
        return 1;
    pthread_mutex_lock(&mu);
    while (arrived < N + 1)
        pthread_cond_wait(&counted, &mu);
    pthread_mutex_unlock(&mu);
    raise(SIGQUIT);
    for (;;) /* the dump ends the process (SIGQUIT after it); a signal
                greenrun sends to take main's stack may end one pause() */
        pause();
}
