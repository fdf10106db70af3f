// sync_pshared: process-shared mutex, condvar, barrier, rwlock and robust
// mutex between a parent and a fork()ed child, in MAP_SHARED memory.
//
// Why: greenrun keeps PTHREAD_PROCESS_SHARED objects on the kernel futex
// (the other process may not run greenrun, or may be another greenrun
// runtime whose wait queues we cannot see).  Lost cross-process wake-ups
// show up as timeouts here; and a robust mutex must report the death of
// its owner *process* (glibc relies on the kernel's robust-futex list for
// that), not only of an owner thread.
//
// Checks (parent and child run the same steps, counters live in the shared
// page):
//   - ownership is per thread, not per thread number: the parent holds a
//     pshared recursive mutex, a pshared errorcheck mutex and a pshared
//     rwlock (write); a fork()ed child's trylock / trylock / trywrlock ->
//     EBUSY each (not 0 or EDEADLK: the child must not inherit the
//     parent's ownership);
//   - mutex + condvar ping-pong: 5,000 round trips, exact turn counts; each
//     wait is a 5 s timedwait, a timeout is a failure (lost wake-up);
//   - contended mutex: 200,000 locked increments each -> 400,000 exactly;
//   - barrier (count 2): 100 rounds; exactly one PTHREAD_BARRIER_SERIAL_THREAD
//     per round across the two processes (100 in all);
//   - rwlock: 100,000 write-locked increments each -> 200,000 exactly;
//   - robust + process-shared mutex: plain lock/unlock (the death of the
//     owner process is tests/prog/robust_pshared_proc.c).
// The children use only the pthread calls under test, clock_gettime and
// _exit, and report failures through their exit status.
// greenrun-test: env=GREENRUN_PROCS=1
// greenrun-test: env=GREENRUN_PROCS=2
// greenrun-test: timeout=90
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TEST_NAME "sync_pshared"
#include "sync_util.h"

#define ROUNDS 5000
#define INCS 200000
#define BROUNDS 100
#define RWINCS 100000

struct shared {
    pthread_mutex_t m;
    pthread_cond_t c;
    pthread_barrier_t b;
    pthread_rwlock_t rw;
    pthread_mutex_t robust;
    pthread_mutex_t rec, errchk;
    int child_rc[3];
    int turn;
    long cnt[2], counter, rwcounter, serial;
    int timeouts, errors;
};
static struct shared *sh;

/* Returns 0 on success, else an error code (the child's exit status). */
static int play(int me)
{
    for (int r = 0; r < ROUNDS; r++) {
        if (pthread_mutex_lock(&sh->m))
            return 10;
        while (sh->turn != me) {
            struct timespec dl;
            clock_gettime(CLOCK_REALTIME, &dl);
            dl.tv_sec += 5;
            int rc = pthread_cond_timedwait(&sh->c, &sh->m, &dl);
            if (rc == ETIMEDOUT && sh->turn != me) {
                sh->timeouts++;
                pthread_mutex_unlock(&sh->m);
                return 11;
            }
            if (rc != 0 && rc != ETIMEDOUT) {
                pthread_mutex_unlock(&sh->m);
                return 12;
            }
        }
        sh->cnt[me]++;
        sh->turn = !me;
        pthread_cond_signal(&sh->c);
        pthread_mutex_unlock(&sh->m);
    }
    for (int i = 0; i < INCS; i++) {
        if (pthread_mutex_lock(&sh->m))
            return 13;
        sh->counter++;
        pthread_mutex_unlock(&sh->m);
    }
    for (int i = 0; i < BROUNDS; i++) {
        int rc = pthread_barrier_wait(&sh->b);
        if (rc == PTHREAD_BARRIER_SERIAL_THREAD)
            __atomic_fetch_add(&sh->serial, 1, __ATOMIC_SEQ_CST);
        else if (rc != 0)
            return 14;
    }
    for (int i = 0; i < RWINCS; i++) {
        if (pthread_rwlock_wrlock(&sh->rw))
            return 15;   /* e.g. EDEADLK: the other process's writer taken for us */
        sh->rwcounter++;
        pthread_rwlock_unlock(&sh->rw);
    }
    return 0;
}

static void wait_child(pid_t pid, const char *what)
{
    int st;
    pid_t r;
    while ((r = waitpid(pid, &st, 0)) == -1 && errno == EINTR)
        ;
    if (r != pid)
        die("%s: waitpid: %s", what, strerror(errno));
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        die("%s: child ended with status 0x%x (exit code %d: 10-15 = failed step, 11 = 5 s condvar timeout, 15 = rwlock)",
            what, st, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

int main(void)
{
    sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (sh == MAP_FAILED)
        die("mmap: %s", strerror(errno));
    pthread_mutexattr_t ma;
    pthread_condattr_t ca;
    pthread_barrierattr_t ba;
    pthread_rwlockattr_t ra;
    EXPECT_RC(pthread_mutexattr_init(&ma), 0);
    EXPECT_RC(pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED), 0);
    EXPECT_RC(pthread_mutex_init(&sh->m, &ma), 0);
    EXPECT_RC(pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST), 0);
    EXPECT_RC(pthread_mutex_init(&sh->robust, &ma), 0);
    EXPECT_RC(pthread_condattr_init(&ca), 0);
    EXPECT_RC(pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED), 0);
    EXPECT_RC(pthread_cond_init(&sh->c, &ca), 0);
    EXPECT_RC(pthread_barrierattr_init(&ba), 0);
    EXPECT_RC(pthread_barrierattr_setpshared(&ba, PTHREAD_PROCESS_SHARED), 0);
    EXPECT_RC(pthread_barrier_init(&sh->b, &ba, 2), 0);
    EXPECT_RC(pthread_rwlockattr_init(&ra), 0);
    EXPECT_RC(pthread_rwlockattr_setpshared(&ra, PTHREAD_PROCESS_SHARED), 0);
    EXPECT_RC(pthread_rwlock_init(&sh->rw, &ra), 0);

    /* ownership is per thread across processes: a child does not own
     * what its parent holds (glibc records kernel thread ids) */
    pthread_mutexattr_t ta;
    EXPECT_RC(pthread_mutexattr_init(&ta), 0);
    EXPECT_RC(pthread_mutexattr_setpshared(&ta, PTHREAD_PROCESS_SHARED), 0);
    EXPECT_RC(pthread_mutexattr_settype(&ta, PTHREAD_MUTEX_RECURSIVE), 0);
    EXPECT_RC(pthread_mutex_init(&sh->rec, &ta), 0);
    EXPECT_RC(pthread_mutexattr_settype(&ta, PTHREAD_MUTEX_ERRORCHECK), 0);
    EXPECT_RC(pthread_mutex_init(&sh->errchk, &ta), 0);
    EXPECT_RC(pthread_mutex_lock(&sh->rec), 0);
    EXPECT_RC(pthread_mutex_lock(&sh->errchk), 0);
    EXPECT_RC(pthread_rwlock_wrlock(&sh->rw), 0);
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        die("fork: %s", strerror(errno));
    if (pid == 0) {
        sh->child_rc[0] = pthread_mutex_trylock(&sh->rec);
        sh->child_rc[1] = pthread_mutex_trylock(&sh->errchk);
        sh->child_rc[2] = pthread_rwlock_trywrlock(&sh->rw);
        _exit(0);
    }
    wait_child(pid, "ownership child");
    if (sh->child_rc[0] != EBUSY)
        die("pshared recursive mutex held by the parent: the fork()ed child's trylock returned %d (%s), "
            "expected EBUSY (the child took it as its own)", sh->child_rc[0], strerror(sh->child_rc[0]));
    if (sh->child_rc[1] != EBUSY)
        die("pshared errorcheck mutex held by the parent: the child's trylock returned %d (%s), expected EBUSY",
            sh->child_rc[1], strerror(sh->child_rc[1]));
    if (sh->child_rc[2] != EBUSY)
        die("pshared rwlock write-held by the parent: the child's trywrlock returned %d (%s), expected EBUSY "
            "(EDEADLK: it took the parent's ownership as its own)", sh->child_rc[2], strerror(sh->child_rc[2]));
    EXPECT_RC(pthread_rwlock_unlock(&sh->rw), 0);
    EXPECT_RC(pthread_mutex_unlock(&sh->errchk), 0);
    EXPECT_RC(pthread_mutex_unlock(&sh->rec), 0);

    fflush(NULL);
    pid = fork();
    if (pid < 0)
        die("fork: %s", strerror(errno));
    if (pid == 0)
        _exit(play(1));
    int rc = play(0);
    if (rc)
        die("parent: step failed with code %d (11 = 5 s condvar timeout: lost cross-process wake-up)", rc);
    wait_child(pid, "ping-pong/counter/barrier/rwlock child");
    if (sh->cnt[0] != ROUNDS || sh->cnt[1] != ROUNDS)
        die("ping-pong: counts %ld/%ld, expected %d each", sh->cnt[0], sh->cnt[1], ROUNDS);
    if (sh->counter != 2L * INCS)
        die("pshared mutex counter: %ld, expected %ld", sh->counter, 2L * INCS);
    if (sh->serial != BROUNDS)
        die("pshared barrier: %ld SERIAL_THREAD returns, expected %d", sh->serial, BROUNDS);
    if (sh->rwcounter != 2L * RWINCS)
        die("pshared rwlock counter: %ld, expected %ld", sh->rwcounter, 2L * RWINCS);

    /* The robust mutex whose owner *process* dies:
     * tests/prog/robust_pshared_proc.c. */
    EXPECT_RC(pthread_mutex_lock(&sh->robust), 0);
    EXPECT_RC(pthread_mutex_unlock(&sh->robust), 0);
    printf("sync_pshared: OK\n");
    return 0;
}
