// diag_deadlock: the deadlock report names the deadlocked threads, their
// wait reasons and their stacks, and groups 100 identical waiters.
//
// Why: a program moved onto green threads that deadlocks must say so, as
// Go's "all goroutines are asleep" does, with enough to find the bug
// (issue #5, acceptance 1).  Three threads deadlock on two mutexes:
// "locker-a" holds A and wants B, "locker-b" holds B and wants A,
// "locker-c" wants A; beside them 100 "waiter" threads wait on a condition
// variable nobody will signal, and main joins them all.  A barrier makes
// sure both lockers hold their first mutex before anyone asks for the
// second (no sleeps).
//
// With GREENRUN_DEADLOCK=abort, greenrun must print "all threads are
// blocked" and the grouped dump, then exit with status 2.  The checks:
// each locker appears by name with "mutex 0x... held by thread N" and its
// own function (built with -g) on its stack; the 100 waiters are one entry
// "100 threads (ids F..L, "waiter"): cond" with waiter_main on the stack;
// main is listed as joining.  Natively the program would hang: native=no.
// greenrun-test: native=no
// greenrun-test: env=GREENRUN_DEADLOCK=abort GREENRUN_PROCS=2
// greenrun-test: env=GREENRUN_DEADLOCK=abort GREENRUN_PROCS=1
// greenrun-test: expect-status=2
// greenrun-test: timeout=60
// greenrun-test: expect-stderr=^greenrun: all threads are blocked$
// greenrun-test: expect-stderr=^greenrun: pid [0-9]+, 104 threads \(5 groups\)
// greenrun-test: expect-stderr=^thread [0-9]+ "locker-a": mutex 0x[0-9a-f]+ held by thread [0-9]+, waiting [0-9.]+ s$
// greenrun-test: expect-stderr=^thread [0-9]+ "locker-b": mutex 0x[0-9a-f]+ held by thread [0-9]+, waiting [0-9.]+ s$
// greenrun-test: expect-stderr=^thread [0-9]+ "locker-c": mutex 0x[0-9a-f]+ held by thread [0-9]+, waiting [0-9.]+ s$
// greenrun-test: expect-stderr=^    lock_a_then_b\+0x[0-9a-f]+ \(diag_deadlock\)$
// greenrun-test: expect-stderr=^    lock_b_then_a\+0x[0-9a-f]+ \(diag_deadlock\)$
// greenrun-test: expect-stderr=^    lock_a_only\+0x[0-9a-f]+ \(diag_deadlock\)$
// greenrun-test: expect-stderr=^100 threads \(ids [0-9]+\.\.[0-9]+, "waiter"\): cond, waiting [0-9.]+ s$
// greenrun-test: expect-stderr=^    waiter_main\+0x[0-9a-f]+ \(diag_deadlock\)$
// greenrun-test: expect-stderr=^thread 1 "diag_deadlock" \(main\): join, waiting
// greenrun-test: expect-stderr=^greenrun: deadlock: exiting with status 2
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define NWAITERS 100

static pthread_mutex_t mu_a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t mu_b = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t cmu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t never = PTHREAD_COND_INITIALIZER;
static pthread_barrier_t holding;
static int ready;

static void check(int rc, const char *what)
{
    if (rc) {
        fprintf(stderr, "FAIL diag_deadlock: %s: %d\n", what, rc);
        exit(1);
    }
}

__attribute__((noinline)) static void *lock_a_then_b(void *arg)
{
    pthread_setname_np(pthread_self(), "locker-a");
    pthread_mutex_lock(&mu_a);
    pthread_barrier_wait(&holding);
    pthread_mutex_lock(&mu_b);
    __asm__ volatile("" ::: "memory"); /* keep the call above not a tail call */
    return arg;
}

__attribute__((noinline)) static void *lock_b_then_a(void *arg)
{
    pthread_setname_np(pthread_self(), "locker-b");
    pthread_mutex_lock(&mu_b);
    pthread_barrier_wait(&holding);
    pthread_mutex_lock(&mu_a);
    __asm__ volatile("" ::: "memory");
    return arg;
}

__attribute__((noinline)) static void *lock_a_only(void *arg)
{
    pthread_setname_np(pthread_self(), "locker-c");
    pthread_barrier_wait(&holding);
    pthread_mutex_lock(&mu_a);
    __asm__ volatile("" ::: "memory");
    return arg;
}

__attribute__((noinline)) static void *waiter_main(void *arg)
{
    pthread_mutex_lock(&cmu);
    ready++;
    while (ready > 0) /* nobody ever signals */
        pthread_cond_wait(&never, &cmu);
    pthread_mutex_unlock(&cmu);
    return arg;
}

int main(void)
{
    pthread_t t[3 + NWAITERS];
    check(pthread_barrier_init(&holding, NULL, 3), "barrier_init");
    check(pthread_create(&t[0], NULL, lock_a_then_b, NULL), "create a");
    check(pthread_create(&t[1], NULL, lock_b_then_a, NULL), "create b");
    check(pthread_create(&t[2], NULL, lock_a_only, NULL), "create c");
    pthread_attr_t at;
    pthread_attr_init(&at);
    for (int i = 0; i < NWAITERS; i++) {
        check(pthread_create(&t[3 + i], &at, waiter_main, NULL), "create waiter");
        pthread_setname_np(t[3 + i], "waiter");
    }
    for (int i = 0; i < 3 + NWAITERS; i++)
        pthread_join(t[i], NULL);
    fprintf(stderr, "FAIL diag_deadlock: the deadlocked threads ended\n");
    return 1;
}
