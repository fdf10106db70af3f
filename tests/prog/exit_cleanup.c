// exit_cleanup: pthread_cleanup_push/pop semantics in C, and pthread_exit
// from a nested function.
//
// Why: in C (no -fexceptions) glibc's cleanup handlers are registered in
// buffers on the thread's stack; pthread_exit runs a forced unwind that
// longjmps through each registered frame calling the handlers, newest first,
// then ends the thread.  Under greenrun this happens on a green-thread stack
// after the thread may have migrated, and the exit value must still reach
// pthread_join.
//
// 100 threads; each does, in order:
//   1. push(A); push(B); pop(0) -> B must NOT run; pop(1) -> A runs.
//   2. push(H1); push(H2); call nested() -> nested2() which sleeps/yields
//      (may migrate) then calls pthread_exit(value).
// Expected per thread: events exactly [A, H2, H1] (A from step 1, then LIFO
// on exit), nothing after pthread_exit executes, join returns the value.
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define N 100
#define MAXEV 16

enum { EV_A = 1, EV_B, EV_H1, EV_H2, EV_AFTER_EXIT };
static const char *ev_name[] = { "none", "A", "B", "H1", "H2", "code-after-pthread_exit" };

struct log { int n; int ev[MAXEV]; };
static struct log logs[N];

static void add(struct log *l, int e)
{
    if (l->n < MAXEV)
        l->ev[l->n] = e;
    l->n++;
}

static void h_a(void *p) { add(p, EV_A); }
static void h_b(void *p) { add(p, EV_B); }
static void h_1(void *p) { add(p, EV_H1); }
static void h_2(void *p) { add(p, EV_H2); }

static void *exit_value(int idx) { return (void *)(uintptr_t)(idx * 13 + 5); }

__attribute__((noinline)) static void nested2(struct log *l, int idx)
{
    for (int i = 0; i < 3; i++) {
        struct timespec ts = { 0, 1000000 };
        nanosleep(&ts, NULL);
        sched_yield();
    }
    pthread_exit(exit_value(idx));
    add(l, EV_AFTER_EXIT);
}

__attribute__((noinline)) static void nested(struct log *l, int idx)
{
    nested2(l, idx);
    add(l, EV_AFTER_EXIT);
}

static void *start(void *arg)
{
    int idx = (int)(intptr_t)arg;
    struct log *l = &logs[idx];

    pthread_cleanup_push(h_a, l);
    pthread_cleanup_push(h_b, l);
    pthread_cleanup_pop(0);         /* B removed without running */
    pthread_cleanup_pop(1);         /* A runs now */

    pthread_cleanup_push(h_1, l);
    pthread_cleanup_push(h_2, l);
    nested(l, idx);
    add(l, EV_AFTER_EXIT);
    pthread_cleanup_pop(0);
    pthread_cleanup_pop(0);
    return NULL;
}

int main(void)
{
    pthread_t t[N];
    for (int i = 0; i < N; i++) {
        int rc = pthread_create(&t[i], NULL, start, (void *)(intptr_t)i);
        if (rc != 0) {
            fprintf(stderr, "FAIL exit_cleanup: pthread_create #%d: %s\n", i, strerror(rc));
            return 1;
        }
    }
    static const int expected[] = { EV_A, EV_H2, EV_H1 };
    const int nexp = sizeof expected / sizeof expected[0];
    for (int i = 0; i < N; i++) {
        void *ret = NULL;
        int rc = pthread_join(t[i], &ret);
        if (rc != 0 || ret != exit_value(i)) {
            fprintf(stderr, "FAIL exit_cleanup: thread %d: pthread_join expected rc 0 value %p, got rc %d value %p\n",
                    i, exit_value(i), rc, ret);
            return 1;
        }
        struct log *l = &logs[i];
        int ok = l->n == nexp;
        for (int k = 0; ok && k < nexp; k++)
            ok = l->ev[k] == expected[k];
        if (!ok) {
            fprintf(stderr, "FAIL exit_cleanup: thread %d: expected events [", i);
            for (int k = 0; k < nexp; k++)
                fprintf(stderr, "%s%s", k ? ", " : "", ev_name[expected[k]]);
            fprintf(stderr, "], got [");
            for (int k = 0; k < l->n && k < MAXEV; k++)
                fprintf(stderr, "%s%s", k ? ", " : "", ev_name[l->ev[k]]);
            fprintf(stderr, "]\n");
            return 1;
        }
    }
    printf("exit_cleanup: %d threads, handlers [A, H2, H1] and exit values OK\n", N);
    return 0;
}
