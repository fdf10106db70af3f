// errno_migrate: errno and __thread variables stay per-thread and stay at the
// same address across blocking calls that may move the thread to another OS
// thread (nanosleep, sched_yield).
//
// Why: glibc declares __errno_location() __attribute__((const)), so at -O2 gcc
// computes &errno once and keeps it in a register across calls.  The loop
// below takes `int *e = &errno` before it starts, exactly what the compiler
// does on its own.  If a green thread's TLS (its %fs base / TCB) were the OS
// thread's rather than its own, then after migrating, the cached pointer
// would point at another thread's errno.  We check, each iteration, for each
// of 200 threads (which all use distinct values at the same time):
//   - *e == the value we stored (cached address, still ours),
//   - errno (re-read through a fresh __errno_location() call made through a
//     volatile function pointer, so it cannot be CSE'd) == that value, and
//     the fresh address == e;
//   - a __thread counter in the executable (local-exec TLS, %fs-relative)
//     counts this thread's iterations exactly, also through a pointer taken
//     before the loop;
//   - a __thread counter in a shared library (tests/prog/lib/tlslib.c,
//     global-dynamic TLS via __tls_get_addr) counts exactly too, and its
//     address is stable; initialised TLS (.tdata) starts at its initial
//     value in every thread.
// glibc's nanosleep and sched_yield leave errno alone on success; a
// preloaded replacement must too.
//
// greenrun-test: lib=tlslib
// greenrun-test: env=GREENRUN_PROCS=2
// greenrun-test: env=GREENRUN_PROCS=1
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NTHREADS 200
#define ITERS 200

int tlslib_inc(void);
int tlslib_get(void);
int *tlslib_addr(void);
int tlslib_seed_get(void);
void tlslib_seed_set(int v);

__thread int exe_counter;          /* .tbss */
__thread int exe_seed = 12345;     /* .tdata */

/* A call the compiler cannot see through or CSE. */
static int *(*volatile errno_loc)(void) = __errno_location;

#define FAILT(idx, it, ...) do {                                              \
        fprintf(stderr, "FAIL errno_migrate: thread %d iteration %d: ", (idx), (it)); \
        fprintf(stderr, __VA_ARGS__);                                         \
        fputc('\n', stderr);                                                  \
        exit(1);                                                              \
    } while (0)

static void *worker(void *arg)
{
    int idx = (int)(intptr_t)arg;

    if (exe_seed != 12345)
        FAILT(idx, -1, "fresh thread: exe __thread exe_seed expected 12345, got %d", exe_seed);
    if (exe_counter != 0)
        FAILT(idx, -1, "fresh thread: exe __thread exe_counter expected 0, got %d", exe_counter);
    if (tlslib_seed_get() != 0x5eed)
        FAILT(idx, -1, "fresh thread: lib __thread tlslib_seed expected %d, got %d", 0x5eed, tlslib_seed_get());
    if (tlslib_get() != 0)
        FAILT(idx, -1, "fresh thread: lib __thread tlslib_counter expected 0, got %d", tlslib_get());
    exe_seed = 1000000 + idx;
    tlslib_seed_set(2000000 + idx);

    int *e = &errno;              /* kept in a register: the point of the test */
    int *volatile cnt = &exe_counter;
    int *lib = tlslib_addr();

    for (int it = 0; it < ITERS; it++) {
        int expected = idx + it * 1000 + 1;

        errno = expected;
        struct timespec ts = { 0, 1000000 };      /* 1 ms */
        if (nanosleep(&ts, NULL) != 0)
            FAILT(idx, it, "nanosleep returned -1 (errno %d)", *errno_loc());
        if (*e != expected)
            FAILT(idx, it, "after nanosleep: *(&errno cached before loop) expected %d, got %d", expected, *e);

        exe_counter++;
        if (tlslib_inc() != it + 1)
            FAILT(idx, it, "tlslib_inc() expected %d, got %d", it + 1, tlslib_get());

        if (sched_yield() != 0)
            FAILT(idx, it, "sched_yield returned nonzero");
        if (*e != expected)
            FAILT(idx, it, "after sched_yield: *(&errno cached before loop) expected %d, got %d", expected, *e);

        int *fresh = errno_loc();
        if (fresh != e)
            FAILT(idx, it, "&errno changed: cached %p, now %p", (void *)e, (void *)fresh);
        if (*fresh != expected)
            FAILT(idx, it, "errno (fresh __errno_location) expected %d, got %d", expected, *fresh);
        if (errno != expected)
            FAILT(idx, it, "errno expected %d, got %d", expected, errno);

        if (cnt != &exe_counter)
            FAILT(idx, it, "&exe_counter changed: %p -> %p", (void *)cnt, (void *)&exe_counter);
        if (*cnt != it + 1 || exe_counter != it + 1)
            FAILT(idx, it, "exe __thread counter expected %d, got %d (via cached ptr %d)", it + 1, exe_counter, *cnt);
        if (tlslib_addr() != lib)
            FAILT(idx, it, "lib &tlslib_counter changed: %p -> %p", (void *)lib, (void *)tlslib_addr());
        if (*lib != it + 1 || tlslib_get() != it + 1)
            FAILT(idx, it, "lib __thread counter expected %d, got %d (via cached ptr %d)", it + 1, tlslib_get(), *lib);
        if (exe_seed != 1000000 + idx)
            FAILT(idx, it, "exe __thread exe_seed expected %d, got %d", 1000000 + idx, exe_seed);
        if (tlslib_seed_get() != 2000000 + idx)
            FAILT(idx, it, "lib __thread tlslib_seed expected %d, got %d", 2000000 + idx, tlslib_seed_get());
    }
    /* Hand back this thread's addresses so main can check they were distinct. */
    uintptr_t *out = malloc(3 * sizeof *out);
    if (!out)
        FAILT(idx, ITERS, "malloc");
    out[0] = (uintptr_t)e;
    out[1] = (uintptr_t)cnt;
    out[2] = (uintptr_t)lib;
    return out;
}

static int cmp_uptr(const void *a, const void *b)
{
    uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;
    return x < y ? -1 : x > y;
}

int main(void)
{
    static pthread_t tids[NTHREADS];
    static uintptr_t addrs[3][NTHREADS];
    static const char *what[3] = { "&errno", "&exe_counter", "&tlslib_counter" };

    for (int i = 0; i < NTHREADS; i++) {
        int rc = pthread_create(&tids[i], NULL, worker, (void *)(intptr_t)i);
        if (rc != 0) {
            fprintf(stderr, "FAIL errno_migrate: pthread_create #%d: %s\n", i, strerror(rc));
            return 1;
        }
    }
    for (int i = 0; i < NTHREADS; i++) {
        void *ret = NULL;
        int rc = pthread_join(tids[i], &ret);
        if (rc != 0 || ret == NULL) {
            fprintf(stderr, "FAIL errno_migrate: pthread_join #%d: rc %d, ret %p\n", i, rc, ret);
            return 1;
        }
        for (int k = 0; k < 3; k++)
            addrs[k][i] = ((uintptr_t *)ret)[k];
        free(ret);
    }
    /* Threads were all alive at once, so their TLS addresses must differ. */
    for (int k = 0; k < 3; k++) {
        qsort(addrs[k], NTHREADS, sizeof addrs[k][0], cmp_uptr);
        for (int i = 1; i < NTHREADS; i++)
            if (addrs[k][i] == addrs[k][i - 1]) {
                fprintf(stderr, "FAIL errno_migrate: two live threads had the same %s (%#lx)\n",
                        what[k], (unsigned long)addrs[k][i]);
                return 1;
            }
    }
    /* Main's own TLS was untouched by all of that. */
    if (exe_counter != 0 || exe_seed != 12345 || tlslib_get() != 0 || tlslib_seed_get() != 0x5eed) {
        fprintf(stderr, "FAIL errno_migrate: main's TLS changed: exe_counter %d (exp 0), exe_seed %d (exp 12345), "
                "tlslib_counter %d (exp 0), tlslib_seed %d (exp %d)\n",
                exe_counter, exe_seed, tlslib_get(), tlslib_seed_get(), 0x5eed);
        return 1;
    }
    printf("errno_migrate: %d threads x %d iterations OK\n", NTHREADS, ITERS);
    return 0;
}
