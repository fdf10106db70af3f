// diag_deadlock_single: a program that never created a thread and
// deadlocks on its own mutex is reported too.
//
// Why: greenrun's monitor thread (which runs the deadlock check) normally
// starts with the first pthread_create; a single-threaded program that
// locks a default mutex twice hangs natively and would hang silently
// under greenrun.  The first synchronisation wait starts the monitor.
// With GREENRUN_DEADLOCK=abort: "all threads are blocked", main waiting
// on the mutex held by itself (thread 1) with relock() on its stack,
// status 2.  Natively it hangs: native=no.
// greenrun-test: native=no
// greenrun-test: env=GREENRUN_DEADLOCK=abort
// greenrun-test: expect-status=2
// greenrun-test: timeout=30
// greenrun-test: expect-stderr=^greenrun: all threads are blocked$
// greenrun-test: expect-stderr=^thread 1 "diag_deadlock_s" \(main\): mutex 0x[0-9a-f]+ held by thread 1, waiting
// greenrun-test: expect-stderr=^    relock\+0x[0-9a-f]+ \(diag_deadlock_single\)$
#include <pthread.h>
#include <stdio.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

__attribute__((noinline)) static void relock(void)
{
    pthread_mutex_lock(&mu);
    pthread_mutex_lock(&mu); /* a default mutex: deadlocks */
    __asm__ volatile("" ::: "memory");
}

int main(void)
{
    relock();
    fprintf(stderr, "FAIL diag_deadlock_single: relocked a default mutex\n");
    return 1;
}
