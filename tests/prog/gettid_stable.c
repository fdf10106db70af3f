// gettid_stable: a thread's id must not change while it runs.
//
// Why: found by compat/stress_ng.sh.  stress-ng's pthread stressor (with
// --verify) records gettid() when a thread starts, later calls
// syscall(SYS_set_tid_address, ...), whose return value is the caller's
// kernel tid, and reports "set_tid_address failed, returned tid X,
// expecting tid Y".  Under greenrun gettid() is the tid of the OS thread
// (M) the green thread happens to run on, so it changes when the thread
// migrates.  Programs also log gettid() as a thread id.  Now gettid() is
// a per-G id (README), and syscall(SYS_set_tid_address) answers it too.
//
// 16 threads x 200 rounds: record gettid() once, then after each
// sched_yield()/nanosleep (migrations with GREENRUN_PROCS=2) gettid() and
// syscall(SYS_gettid) must still equal it; ids of live threads must be
// distinct.
// greenrun-test: env=GREENRUN_PROCS=2
// greenrun-test: timeout=60
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define THREADS 16
static pthread_barrier_t bar;
static pid_t ids[THREADS];
static atomic_int bad;

static void *worker(void *arg)
{
    int me = (int)(long)arg;
    pid_t id = gettid();
    ids[me] = id;
    pthread_barrier_wait(&bar);
    for (int r = 0; r < 200; r++) {
        if (r % 2)
            sched_yield();
        else
            nanosleep(&(struct timespec){0, 100000}, NULL);
        if (gettid() != id || syscall(SYS_gettid) != id) {
            atomic_fetch_add(&bad, 1);
            break;
        }
    }
    pthread_barrier_wait(&bar);
    return NULL;
}

int main(void)
{
    pthread_t t[THREADS];
    pthread_barrier_init(&bar, NULL, THREADS);
    for (long i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, worker, (void *)i);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    int dup = 0;
    for (int i = 0; i < THREADS; i++)
        for (int j = i + 1; j < THREADS; j++)
            dup += ids[i] == ids[j];
    if (atomic_load(&bad) || dup) {
        fprintf(stderr, "FAIL gettid_stable: %d threads saw their tid change, %d duplicate ids\n",
                atomic_load(&bad), dup);
        return 1;
    }
    printf("ok: %d threads kept one distinct tid each\n", THREADS);
    return 0;
}
