// stack_overflow: a thread that overflows a small stack dies with SIGSEGV and
// greenrun reports which thread it was and how big its stack was.
//
// Why: green-thread stacks are pooled slots, lazily committed, each with a
// guard region.  Overflowing one must hit the guard (not silently run into a
// neighbouring thread's stack), and since a SIGSEGV on an exhausted stack is
// otherwise a mystery, greenrun's fault handler (running on an alternate
// signal stack) prints a diagnostic naming the thread and its stack size
// before letting the process die of SIGSEGV.
//
// The thread is created with pthread_attr_setstacksize(65536), names itself
// "deep-recursor" with pthread_setname_np, and recurses without bound; each
// frame has a volatile buffer and uses the callee's result, so the recursion
// can be neither optimised away nor turned into a loop.
//
// Natively the program also dies of SIGSEGV (glibc's guard page), but glibc
// prints nothing, so the stderr expectations below only hold under greenrun.
// greenrun-test: native=no
// greenrun-test: expect-signal=SEGV
// greenrun-test: expect-stderr=stack overflow.*deep-recursor
// greenrun-test: expect-stderr=65536
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static volatile int never;  /* always 0; keeps -Winfinite-recursion quiet */

__attribute__((noinline)) static unsigned long recurse(unsigned long depth)
{
    volatile char buf[512];
    if (never)
        return depth;
    buf[0] = (char)depth;
    buf[sizeof buf - 1] = (char)(depth >> 8);
    unsigned long r = recurse(depth + 1);
    return r + buf[0] + buf[sizeof buf - 1];
}

static void *deep(void *arg)
{
    (void)arg;
    int rc = pthread_setname_np(pthread_self(), "deep-recursor");
    if (rc != 0) {
        fprintf(stderr, "FAIL stack_overflow: pthread_setname_np: %s\n", strerror(rc));
        exit(1);
    }
    return (void *)recurse(0);
}

int main(void)
{
    pthread_attr_t a;
    pthread_t t;
    pthread_attr_init(&a);
    int rc = pthread_attr_setstacksize(&a, 65536);
    if (rc != 0) {
        fprintf(stderr, "FAIL stack_overflow: pthread_attr_setstacksize(65536): %s\n", strerror(rc));
        return 1;
    }
    rc = pthread_create(&t, &a, deep, NULL);
    if (rc != 0) {
        fprintf(stderr, "FAIL stack_overflow: pthread_create: %s\n", strerror(rc));
        return 1;
    }
    void *ret;
    pthread_join(t, &ret);
    fprintf(stderr, "FAIL stack_overflow: unbounded recursion on a 64 KiB stack returned (%p) "
            "instead of dying of SIGSEGV\n", ret);
    return 1;
}
