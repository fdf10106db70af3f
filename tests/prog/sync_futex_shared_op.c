// sync_futex_shared_op: futex waits without FUTEX_PRIVATE_FLAG on words in
// the program's private memory must not each hold an OS thread.
//
// Why: libstdc++'s std::future / std::shared_future (futex.cc, GCC 12) wait
// with FUTEX_WAIT / FUTEX_WAIT_BITSET *without* the private flag on a word
// in the heap-allocated shared state.  greenrun used to send every such
// wait to the kernel (the word might be in memory shared with another
// process), so 10,000 threads blocked in shared_future::wait() became
// 10,000 OS threads and the process died of GREENRUN_MAXTHREADS (found by
// compat/cxx_threads.cc).  A word in a private anonymous page (heap, bss
// written to, stack) cannot be shared with another process: the kernel
// itself keys such futexes by the address space, so they can wait as
// green threads.  A word in a MAP_SHARED page must still reach the kernel,
// so another process can wake it.
//
// Checks (GREENRUN_MAXTHREADS=64 makes a waiter per OS thread fatal):
//   - 1,000 threads wait with op FUTEX_WAIT (0) on one malloc'ed word, 1,000
//     with FUTEX_WAIT_BITSET (9, bitset ~0, no timeout) on another, 200 on
//     a static (bss) word; main sets the words to 1 and wakes with
//     FUTEX_WAKE / FUTEX_WAKE_BITSET (non-private) until the wake counts
//     add up to exactly the number of waiters; each waiter's call returns 0
//     or -1/EAGAIN (it came late), and all of them return;
//   - a FUTEX_WAIT_BITSET (no private flag) with an absolute
//     CLOCK_MONOTONIC deadline 20 ms ahead on a heap word -> -1/ETIMEDOUT,
//     not early;
//   - across processes, MAP_SHARED anonymous memory: a forked child waits
//     with FUTEX_WAIT on word A while the parent's thread wakes it with
//     FUTEX_WAKE; then a parent thread waits on word B and the child wakes
//     it.  Both must return (20 s bound via a timeout on each wait).
// greenrun-test: env=GREENRUN_PROCS=2 GREENRUN_MAXTHREADS=64
// greenrun-test: env=GREENRUN_PROCS=1 GREENRUN_MAXTHREADS=64
// greenrun-test: timeout=60
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TEST_NAME "sync_futex_shared_op"
#include "sync_util.h"

#define N_WAIT   1000
#define N_BITSET 1000
#define N_BSS    200

static long futex(uint32_t *uaddr, int op, uint32_t val, const struct timespec *ts, uint32_t val3)
{
    return syscall(SYS_futex, uaddr, op, val, ts, NULL, val3);
}

static uint32_t *heap_a, *heap_b;
static uint32_t bss_word;
static atomic_int arrived, returned, bad;

struct waiter {
    uint32_t *word;
    int op;
};

static void *wait_thread(void *arg)
{
    struct waiter *w = arg;
    atomic_fetch_add(&arrived, 1);
    while (__atomic_load_n(w->word, __ATOMIC_ACQUIRE) == 0) {
        long r = futex(w->word, w->op, 0, NULL, FUTEX_BITSET_MATCH_ANY);
        if (r != 0 && errno != EAGAIN) {
            fprintf(stderr, "FAIL " TEST_NAME ": wait op %d: %ld errno %d\n", w->op, r, errno);
            atomic_fetch_add(&bad, 1);
            break;
        }
    }
    atomic_fetch_add(&returned, 1);
    return NULL;
}

/* Release every waiter on `word`: count the wakes the kernel contract
 * reports until all `n` waiters have returned (20 s bound). */
static void release(uint32_t *word, int wake_op, int n, int *total_woken)
{
    __atomic_store_n(word, 1, __ATOMIC_RELEASE);
    double end = now_s() + 20;
    while (atomic_load(&returned) < n) {
        long r = futex(word, wake_op, INT_MAX, NULL, FUTEX_BITSET_MATCH_ANY);
        if (r < 0)
            die("wake op %d: %s", wake_op, strerror(errno));
        *total_woken += (int)r;
        if (now_s() > end)
            die("only %d of %d waiters returned", atomic_load(&returned), n);
        ms_sleep(1);
    }
}

static void run_group(uint32_t *word, int op, int wake_op, int n)
{
    pthread_t *ts = calloc(n, sizeof *ts);
    struct waiter w = {word, op};
    atomic_store(&arrived, 0);
    atomic_store(&returned, 0);
    for (int i = 0; i < n; i++)
        EXPECT_RC(pthread_create(&ts[i], NULL, wait_thread, &w), 0);
    while (atomic_load(&arrived) < n)
        ms_sleep(1);
    int woken = 0;
    release(word, wake_op, n, &woken);
    for (int i = 0; i < n; i++)
        EXPECT_RC(pthread_join(ts[i], NULL), 0);
    if (woken > n)
        die("op %d: %d wakes reported for %d waiters", op, woken, n);
    if (atomic_load(&bad))
        die("op %d: %d waits failed", op, atomic_load(&bad));
    free(ts);
}

static void timed_wait(void)
{
    struct timespec now, dl;
    clock_gettime(CLOCK_MONOTONIC, &now);
    dl = now;
    dl.tv_nsec += 20 * 1000000L;
    if (dl.tv_nsec >= 1000000000L) {
        dl.tv_sec++;
        dl.tv_nsec -= 1000000000L;
    }
    double t0 = now_s();
    errno = 0;
    long r = futex(heap_b, FUTEX_WAIT_BITSET, 1, &dl, FUTEX_BITSET_MATCH_ANY);
    if (r != -1 || errno != ETIMEDOUT)
        die("timed FUTEX_WAIT_BITSET: %ld errno %d, want -1/ETIMEDOUT", r, errno);
    if (now_s() - t0 < 0.019)
        die("timed FUTEX_WAIT_BITSET returned early after %.4f s", now_s() - t0);
}

/* Wait (<= 20 s) until *word != 0, with FUTEX_WAIT and 100 ms timeouts. */
static int wait_nonzero(uint32_t *word)
{
    struct timespec ts = {0, 100 * 1000000L};
    for (int i = 0; i < 200; i++) {
        if (__atomic_load_n(word, __ATOMIC_ACQUIRE) != 0)
            return 0;
        long r = futex(word, FUTEX_WAIT, 0, &ts, 0);
        if (r != 0 && errno != EAGAIN && errno != ETIMEDOUT)
            return -1;
    }
    return -1;
}

static void *parent_waiter(void *arg)
{
    return (void *)(intptr_t)wait_nonzero((uint32_t *)arg);
}

static void cross_process(void)
{
    uint32_t *shm = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (shm == MAP_FAILED)
        die("mmap: %s", strerror(errno));
    uint32_t *a = &shm[0], *b = &shm[16], *child_waiting = &shm[32];
    pid_t pid = fork();
    if (pid < 0)
        die("fork: %s", strerror(errno));
    if (pid == 0) {
        __atomic_store_n(child_waiting, 1, __ATOMIC_RELEASE);
        if (wait_nonzero(a) != 0)
            _exit(3);
        __atomic_store_n(b, 1, __ATOMIC_RELEASE);
        futex(b, FUTEX_WAKE, INT_MAX, NULL, 0);
        _exit(0);
    }
    pthread_t t;
    EXPECT_RC(pthread_create(&t, NULL, parent_waiter, b), 0);
    while (__atomic_load_n(child_waiting, __ATOMIC_ACQUIRE) == 0)
        ms_sleep(1);
    ms_sleep(20); /* let the child block in FUTEX_WAIT (it re-checks anyway) */
    __atomic_store_n(a, 1, __ATOMIC_RELEASE);
    futex(a, FUTEX_WAKE, INT_MAX, NULL, 0);
    void *res;
    EXPECT_RC(pthread_join(t, &res), 0);
    if (res != NULL)
        die("parent thread was not woken by the child through shared memory");
    int st;
    if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        die("child was not woken through shared memory (status %#x)", st);
}

int main(void)
{
    heap_a = calloc(1, sizeof *heap_a);
    heap_b = calloc(1, sizeof *heap_b);
    run_group(heap_a, FUTEX_WAIT, FUTEX_WAKE, N_WAIT);
    __atomic_store_n(heap_b, 0, __ATOMIC_RELAXED);
    run_group(heap_b, FUTEX_WAIT_BITSET, FUTEX_WAKE_BITSET, N_BITSET);
    run_group(&bss_word, FUTEX_WAIT, FUTEX_WAKE, N_BSS);
    timed_wait();
    cross_process();
    printf("ok: %d+%d+%d non-private futex waiters released, shared memory still crosses processes\n",
           N_WAIT, N_BITSET, N_BSS);
    return 0;
}
