// signal_handler_mask: the kernel signal mask while a program's signal
// handler runs on a green thread.
//
// Why: found by compat/jvm_threads.sh.  The JVM turns SIGSEGV into Java
// exceptions (stack banging -> StackOverflowError, implicit null checks,
// safepoint polls).  Its handler first calls pthread_sigmask(SIG_UNBLOCK,
// {SIGSEGV,...}) so that a fault inside the handler (SafeFetch probes while
// it walks frames) is handled too.  Under greenrun the mask is cached per
// M (runtime/proc.c apply_sigmask): the kernel blocked SIGSEGV when it
// delivered the signal, the cache still says "unblocked", so the unblock is
// skipped, the nested fault hits a blocked SIGSEGV and the kernel kills the
// process silently (status 139).  Two more ways to the same death: a G
// that parks inside a handler (nanosleep, a lock) or is preempted there
// leaves its M running other Gs with the handler's mask (SIGSEGV blocked),
// and the next fault of any of them is fatal.
// A local experiment (not committed: runtime/proc.c belongs to the signals
// issue) that made rt_sigmask_set() always issue rt_sigprocmask made the
// JVM's StackOverflowError test pass 12/12 (it failed 11/16 before); the
// park and preempt modes need the switch to install the next G's mask
// whenever the kernel's may differ from the cache (e.g. invalidate the
// cache when a G switches out from inside a handler).
//
// MODE=unblock  one thread: the SIGSEGV handler unblocks SIGSEGV, then
//               touches a second PROT_NONE page; the nested handler maps
//               it RW; the outer handler maps the first page RW.  20 times.
// MODE=park     8 threads x 20 faults on private PROT_NONE pages; the
//               handler sleeps 200 us (parks) before mprotect RW.
// MODE=preempt  the same with a ~40 ms busy loop in the handler instead
//               (longer than the 10 ms preemption period).
// Each mode must handle exactly its number of faults and exit 0.
// greenrun-test: env=MODE=unblock
// greenrun-test: env=MODE=park GREENRUN_PROCS=1
// greenrun-test: env=MODE=preempt GREENRUN_PROCS=1
// greenrun-test: timeout=60
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

enum { UNBLOCK, PARK, PREEMPT };
static int mode;
static atomic_long handled;
static volatile char *volatile probe_page;   /* UNBLOCK: the nested fault's page */
static volatile int probing;

static void spin_ms(long ms)
{
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    do
        clock_gettime(CLOCK_MONOTONIC, &b);
    while ((b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000 < ms);
}

static void handler(int sig, siginfo_t *si, void *uc)
{
    char *page = (char *)((unsigned long)si->si_addr & ~4095UL);
    if (mode == UNBLOCK && probing) { /* the nested fault */
        mprotect(page, 4096, PROT_READ | PROT_WRITE);
        atomic_fetch_add(&handled, 1);
        return;
    }
    if (mode == UNBLOCK) {
        sigset_t s;
        sigemptyset(&s);
        sigaddset(&s, SIGSEGV);
        pthread_sigmask(SIG_UNBLOCK, &s, NULL);
        probing = 1;
        probe_page[100] = 1; /* faults: needs SIGSEGV unblocked */
        probing = 0;
    } else if (mode == PARK) {
        struct timespec ts = {0, 200000};
        nanosleep(&ts, NULL);
    } else {
        spin_ms(40);
    }
    mprotect(page, 4096, PROT_READ | PROT_WRITE);
    atomic_fetch_add(&handled, 1);
}

static void fault_once(void)
{
    volatile char *p = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        perror("mmap");
        exit(1);
    }
    if (mode == UNBLOCK)
        probe_page = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    p[10] = 7;
    if (p[10] != 7) {
        fprintf(stderr, "FAIL signal_handler_mask: page not writable after the handler\n");
        exit(1);
    }
    munmap((void *)p, 4096);
    if (mode == UNBLOCK)
        munmap((void *)probe_page, 4096);
}

static void *worker(void *arg)
{
    int n = mode == PREEMPT ? 3 : 20;
    for (int i = 0; i < n; i++)
        fault_once();
    return NULL;
}

int main(void)
{
    const char *m = getenv("MODE");
    mode = !m || !strcmp(m, "unblock") ? UNBLOCK : !strcmp(m, "park") ? PARK : PREEMPT;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = handler;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, NULL);
    long want;
    if (mode == UNBLOCK) {
        worker(NULL);
        want = 2 * 20;
    } else {
        pthread_t t[8];
        for (int i = 0; i < 8; i++)
            pthread_create(&t[i], NULL, worker, NULL);
        for (int i = 0; i < 8; i++)
            pthread_join(t[i], NULL);
        want = 8 * (mode == PREEMPT ? 3 : 20);
    }
    if (atomic_load(&handled) != want) {
        fprintf(stderr, "FAIL signal_handler_mask: handled %ld faults, want %ld\n",
                atomic_load(&handled), want);
        return 1;
    }
    printf("ok: %ld faults handled (mode %s)\n", want, m ? m : "unblock");
    return 0;
}
