// sync_deadlock_io: a mutex holder blocked in I/O must not deadlock the
// program when every other thread waits for that mutex.
//
// Why: this is the case that makes greenrun's mutexes park the green
// thread instead of the OS thread (shim/mutex.c).  1,000 threads contend
// for one mutex; whoever holds it blocks in read() on a pipe.  If waiting
// for the mutex blocked OS threads, or the read() blocked the only OS
// thread that runs green threads (GREENRUN_PROCS=1), the writer that
// would unblock the read could never run: a deadlock that native threads
// do not have.
//
// Protocol: each of the 1,000 threads locks the mutex, posts "acquired"
// (a semaphore), reads exactly one byte from the pipe, checks it, bumps a
// plain counter and unlocks.  One writer thread waits for each "acquired"
// (sem_timedwait, 30 s bound) and then writes one byte, so every write
// releases exactly the current holder.  Byte k (k = 0..999) is k & 0xff and
// the k-th holder (counted under the mutex) must read exactly that byte.
// Checks: every thread finished and was joined, counter exactly 1,000,
// 1,000 bytes written, each holder read its own byte, nobody saw another
// holder inside (atomic in-critical-section count), and the pipe is empty
// at the end (non-blocking read -> EAGAIN).
// A SIGALRM watchdog (50 s) turns a deadlock into a message with the
// progress made.
// greenrun-test: env=GREENRUN_PROCS=1
// greenrun-test: env=GREENRUN_PROCS=2
// greenrun-test: timeout=60
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define TEST_NAME "sync_deadlock_io"
#include "sync_util.h"

#define N 1000

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static sem_t acquired;
static int pfd[2];
static int counter;                   /* under m */
static atomic_int inside, overlap, bad_byte, started, written, finished;

static void on_alarm(int sig)
{
    (void)sig;
    char buf[256];
    int n = snprintf(buf, sizeof buf,
                     "FAIL sync_deadlock_io: watchdog: deadlock? after 50 s: %d of %d threads started, "
                     "%d bytes written, %d threads finished\n",
                     atomic_load(&started), N, atomic_load(&written), atomic_load(&finished));
    (void)!write(2, buf, n);
    _exit(1);
}

static void *reader(void *arg)
{
    (void)arg;
    atomic_fetch_add(&started, 1);
    int rc = pthread_mutex_lock(&m);
    if (rc)
        die("pthread_mutex_lock returned %d", rc);
    if (atomic_fetch_add(&inside, 1) != 0)
        atomic_fetch_add(&overlap, 1);
    int k = counter;
    if (sem_post(&acquired) != 0)
        die("sem_post: %s", strerror(errno));
    unsigned char c;
    ssize_t r;
    while ((r = read(pfd[0], &c, 1)) == -1 && errno == EINTR)
        ;
    if (r != 1)
        die("holder #%d: read returned %zd (%s), expected 1 byte", k, r, r < 0 ? strerror(errno) : "EOF");
    if (c != (unsigned char)(k & 0xff))
        atomic_fetch_add(&bad_byte, 1);
    counter = k + 1;
    atomic_fetch_sub(&inside, 1);
    rc = pthread_mutex_unlock(&m);
    if (rc)
        die("pthread_mutex_unlock returned %d", rc);
    atomic_fetch_add(&finished, 1);
    return NULL;
}

static void *writer(void *arg)
{
    (void)arg;
    for (int k = 0; k < N; k++) {
        struct timespec dl;
        clock_gettime(CLOCK_REALTIME, &dl);
        dl.tv_sec += 30;
        int rc;
        while ((rc = sem_timedwait(&acquired, &dl)) == -1 && errno == EINTR)
            ;
        if (rc != 0)
            die("writer: no thread acquired the mutex for byte %d within 30 s (%s); %d finished", k,
                strerror(errno), atomic_load(&finished));
        unsigned char c = (unsigned char)(k & 0xff);
        ssize_t w;
        while ((w = write(pfd[1], &c, 1)) == -1 && errno == EINTR)
            ;
        if (w != 1)
            die("writer: write returned %zd (%s)", w, w < 0 ? strerror(errno) : "-");
        atomic_fetch_add(&written, 1);
    }
    return NULL;
}

int main(void)
{
    signal(SIGALRM, on_alarm);
    alarm(50);
    if (pipe(pfd) != 0)
        die("pipe: %s", strerror(errno));
    if (sem_init(&acquired, 0, 0) != 0)
        die("sem_init: %s", strerror(errno));

    static pthread_t t[N];
    pthread_t w;
    for (int i = 0; i < N; i++) {
        int rc = pthread_create(&t[i], NULL, reader, NULL);
        if (rc)
            die("pthread_create #%d: %s", i, strerror(rc));
    }
    int rc = pthread_create(&w, NULL, writer, NULL);
    if (rc)
        die("pthread_create (writer): %s", strerror(rc));
    for (int i = 0; i < N; i++) {
        rc = pthread_join(t[i], NULL);
        if (rc)
            die("pthread_join #%d: %s", i, strerror(rc));
    }
    rc = pthread_join(w, NULL);
    if (rc)
        die("pthread_join (writer): %s", strerror(rc));
    alarm(0);

    if (counter != N || atomic_load(&finished) != N || atomic_load(&written) != N)
        die("counter %d, finished %d, written %d; expected %d each", counter, atomic_load(&finished),
            atomic_load(&written), N);
    if (atomic_load(&overlap))
        die("%d times a holder found another holder inside", atomic_load(&overlap));
    if (atomic_load(&bad_byte))
        die("%d holders read a byte other than their own", atomic_load(&bad_byte));
    int fl = fcntl(pfd[0], F_GETFL);
    if (fl < 0 || fcntl(pfd[0], F_SETFL, fl | O_NONBLOCK) != 0)
        die("fcntl O_NONBLOCK: %s", strerror(errno));
    unsigned char c;
    ssize_t r = read(pfd[0], &c, 1);
    if (r != -1 || (errno != EAGAIN && errno != EWOULDBLOCK))
        die("pipe not empty at the end: read returned %zd (%s)", r, r < 0 ? strerror(errno) : "a byte");
    int v = -1;
    sem_getvalue(&acquired, &v);
    if (v != 0)
        die("semaphore value %d at the end, expected 0", v);
    printf("sync_deadlock_io: %d holders blocked in read() released one by one: OK\n", N);
    return 0;
}
