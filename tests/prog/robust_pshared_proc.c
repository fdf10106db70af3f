// robust_pshared_proc: robust + PTHREAD_PROCESS_SHARED mutexes in shared
// memory (a memfd, so exec'd helpers can map it too) whose owner *process*
// dies, as glibc does it with the kernel's robust-futex list.
//
// Why: under greenrun a thread is a green thread with no kernel thread id
// of its own, so glibc's per-thread kernel robust list cannot follow it;
// greenrun must still make the death of the owner process (or of the
// owner thread) visible, on the lock word glibc processes also read.
//
// Checks (each mutex is robust + process-shared; "child" is a fork()ed
// process of this program, "native helper" is this program exec'd again
// with LD_PRELOAD removed, a plain glibc process):
//   A  a child locks (0) and _exit()s holding: the parent's timedlock ->
//      EOWNERDEAD, consistent -> 0, unlock -> 0, lock -> 0, unlock -> 0;
//      held by the parent: a child's unlock -> EPERM, its 100 ms
//      timedlock -> ETIMEDOUT
//   B  a parent thread already blocked in pthread_mutex_lock (the lock word
//      shows FUTEX_WAITERS) when the child holding it dies -> EOWNERDEAD,
//      consistent -> 0, unlock -> 0; then the parent locks -> 0
//   C  child dies holding; parent lock -> EOWNERDEAD, unlock without
//      consistent -> 0; then lock -> ENOTRECOVERABLE, a child's lock ->
//      ENOTRECOVERABLE, a native helper's lock -> ENOTRECOVERABLE,
//      consistent -> EINVAL, trylock -> ENOTRECOVERABLE
//   D  interop with plain glibc: (1) a native helper locks (0) and exits
//      holding: parent lock -> EOWNERDEAD, consistent 0, unlock 0, lock 0;
//      (2) a native helper blocked in lock while a child of ours that holds
//      it dies -> EOWNERDEAD, consistent 0, unlock 0 (then parent lock 0);
//      (3) child dies holding, a native helper gets EOWNERDEAD and unlocks
//      without consistent -> the parent's lock -> ENOTRECOVERABLE
//   E  thread death in one process: (1) a thread locks and returns:
//      trylock -> EOWNERDEAD, consistent 0, unlock 0, lock 0; (2) a thread
//      blocked in lock and a child process blocked in lock while another
//      thread exits holding it: exactly one gets EOWNERDEAD, makes it
//      consistent and unlocks (0, 0), the other then gets 0
//   F  the owner process's main thread calls pthread_exit first, then its
//      other thread locks (0) and the process exits: parent lock ->
//      EOWNERDEAD (the process's death, not a thread's, is what counts)
//   G  a child locks (0) then execs a native helper that keeps running:
//      parent lock -> EOWNERDEAD while the exec'd process is still alive
//      (exec ends the holder as natively)
//   H  ownership within a process: errorcheck relock -> EDEADLK, unlock by
//      another thread -> EPERM, second unlock -> EPERM; recursive lock x2
//      -> 0, unlock x2 -> 0, third unlock -> EPERM; pthread_cond_timedwait
//      with it -> ETIMEDOUT and still held (unlock -> 0)
//   I  contention: 2 processes x 3 threads x 3,000 locked increments of a
//      plain counter -> exactly 18,000 (lost wake-ups would hang)
// greenrun-test: env=GREENRUN_PROCS=1
// greenrun-test: env=GREENRUN_PROCS=2
// greenrun-test: timeout=120
#define _GNU_SOURCE
#define TEST_NAME "robust_pshared_proc"
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sync_util.h"

enum { MA, MB, MC, MD1, MD2, MD3, ME1, ME2, MF, MG, MH_ERR, MH_REC, MI, NM };

struct shared {
    pthread_mutex_t m[NM];
    atomic_int held, go, exec_go;
    int hrc, hrc2;          /* results of a native helper */
    long counter;           /* part I, under m[MI] */
};

static struct shared *sh;
static int shfd;

#define FUTEX_WAITERS_BIT 0x80000000u

/* ---- the native helper (this program exec'd without LD_PRELOAD) -------- */

static int helper(int fd, const char *action, int idx)
{
    if (getenv("LD_PRELOAD"))
        return 99; /* must be a plain glibc process */
    sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (sh == MAP_FAILED)
        return 98;
    pthread_mutex_t *m = &sh->m[idx];
    if (!strcmp(action, "hold")) {          /* lock, die holding it */
        sh->hrc = pthread_mutex_lock(m);
        _exit(0);
    }
    if (!strcmp(action, "recover")) {       /* lock; if the owner died, recover */
        sh->hrc = pthread_mutex_lock(m);
        sh->hrc2 = -1;
        if (sh->hrc == EOWNERDEAD && (sh->hrc2 = pthread_mutex_consistent(m)) == 0)
            sh->hrc2 = pthread_mutex_unlock(m);
        return 0;
    }
    if (!strcmp(action, "lock")) {          /* just report what lock says */
        sh->hrc = pthread_mutex_lock(m);
        return 0;
    }
    if (!strcmp(action, "giveup")) {        /* EOWNERDEAD, unlock inconsistent */
        sh->hrc = pthread_mutex_lock(m);
        sh->hrc2 = sh->hrc == EOWNERDEAD ? pthread_mutex_unlock(m) : -1;
        return 0;
    }
    if (!strcmp(action, "linger")) {        /* stay alive until told to go */
        double dl = now_s() + 30;
        while (!atomic_load(&sh->exec_go) && now_s() < dl)
            ms_sleep(1);
        return 0;
    }
    return 97;
}

/* Fork and exec this program as a native helper; returns its pid (from
 * a child of ours: exec_after_lock locks first, for part G). */
static pid_t spawn_native(const char *action, int idx, int lock_first)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        die("fork: %s", strerror(errno));
    if (pid == 0) {
        char fdbuf[16], ibuf[16];
        snprintf(fdbuf, sizeof fdbuf, "%d", shfd);
        snprintf(ibuf, sizeof ibuf, "%d", idx);
        char *argv[] = { "robust_pshared_proc", "helper", fdbuf, (char *)action, ibuf, NULL };
        if (lock_first) {
            if (pthread_mutex_lock(&sh->m[idx]) != 0)
                _exit(96);
            atomic_store(&sh->held, 1);
        }
        unsetenv("LD_PRELOAD");
        execv("/proc/self/exe", argv);
        _exit(95);
    }
    return pid;
}

static void wait_child(pid_t pid, int want, const char *what)
{
    int st;
    if (waitpid(pid, &st, 0) != pid)
        die("waitpid (%s): %s", what, strerror(errno));
    if (!WIFEXITED(st) || WEXITSTATUS(st) != want)
        die("%s: exit status %d (signal %d), expected %d", what,
            WIFEXITED(st) ? WEXITSTATUS(st) : -1, WIFSIGNALED(st) ? WTERMSIG(st) : 0, want);
}

/* Fork a child that locks m[idx] (0 expected) and _exits holding it. */
static void child_dies_holding(int idx, const char *what)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        die("fork: %s", strerror(errno));
    if (pid == 0)
        _exit(pthread_mutex_lock(&sh->m[idx]) == 0 ? 0 : 1);
    wait_child(pid, 0, what);
}

/* Until some waiter has set FUTEX_WAITERS in the lock word: it is (about
 * to be) asleep in the kernel. */
static void wait_waiters(pthread_mutex_t *m, const char *what)
{
    double dl = now_s() + 30;
    while (!(__atomic_load_n((unsigned *)&m->__data.__lock, __ATOMIC_ACQUIRE) & FUTEX_WAITERS_BIT)) {
        if (now_s() > dl)
            die("timed out (30 s) waiting for %s to block in pthread_mutex_lock", what);
        ms_sleep(1);
    }
    ms_sleep(20);
}

static void init_mutex(pthread_mutex_t *m, int type)
{
    pthread_mutexattr_t a;
    EXPECT_RC(pthread_mutexattr_init(&a), 0);
    EXPECT_RC(pthread_mutexattr_settype(&a, type), 0);
    EXPECT_RC(pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED), 0);
    EXPECT_RC(pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST), 0);
    EXPECT_RC(pthread_mutex_init(m, &a), 0);
    EXPECT_RC(pthread_mutexattr_destroy(&a), 0);
}

/* ---- A: the owner process dies -------------------------------------------- */

static void part_a(void)
{
    pthread_mutex_t *m = &sh->m[MA];
    child_dies_holding(MA, "A: child that locks and dies");
    struct timespec dl = ts_in(CLOCK_REALTIME, 5000);
    EXPECT_RC(pthread_mutex_timedlock(m, &dl), EOWNERDEAD);
    EXPECT_RC(pthread_mutex_consistent(m), 0);
    EXPECT_RC(pthread_mutex_unlock(m), 0);
    EXPECT_RC(pthread_mutex_lock(m), 0);
    /* a child does not own what its parent holds, and waits in vain */
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        if (pthread_mutex_unlock(m) != EPERM)
            _exit(1);
        struct timespec cdl = ts_in(CLOCK_REALTIME, 100);
        _exit(pthread_mutex_timedlock(m, &cdl) == ETIMEDOUT ? 0 : 2);
    }
    wait_child(pid, 0, "A: child's unlock (1: expected EPERM) and timedlock (2: expected ETIMEDOUT) "
               "of the parent's mutex");
    EXPECT_RC(pthread_mutex_unlock(m), 0);
    printf("A: owner process died: EOWNERDEAD, consistent, unlock, lock: ok\n");
}

/* ---- B: a thread already blocked when the owner process dies ------------- */

static atomic_int b_started;
static int b_rc[3];

static void *b_locker(void *arg)
{
    pthread_mutex_t *m = arg;
    atomic_store(&b_started, 1);
    b_rc[0] = pthread_mutex_lock(m);
    b_rc[1] = b_rc[0] == EOWNERDEAD ? pthread_mutex_consistent(m) : -1;
    b_rc[2] = b_rc[1] == 0 ? pthread_mutex_unlock(m) : -1;
    return NULL;
}

/* Fork a child that locks m, sets sh->held, and exits holding it once
 * sh->go is set (or after 30 s). */
static pid_t fork_holder(pthread_mutex_t *m)
{
    atomic_store(&sh->held, 0);
    atomic_store(&sh->go, 0);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        if (pthread_mutex_lock(m) != 0)
            _exit(1);
        atomic_store(&sh->held, 1);
        double dl = now_s() + 30;
        while (!atomic_load(&sh->go) && now_s() < dl)
            ms_sleep(1);
        _exit(0); /* dies holding it */
    }
    return pid;
}

static void part_b(void)
{
    pthread_mutex_t *m = &sh->m[MB];
    pid_t pid = fork_holder(m);
    wait_flag(&sh->held, 1, "B: child to lock");
    pthread_t t;
    EXPECT_RC(pthread_create(&t, NULL, b_locker, m), 0);
    wait_flag(&b_started, 1, "B: locker thread to start");
    wait_waiters(m, "B: locker thread");
    atomic_store(&sh->go, 1);
    wait_child(pid, 0, "B: child holding the mutex");
    EXPECT_RC(pthread_join(t, NULL), 0);
    if (b_rc[0] != EOWNERDEAD || b_rc[1] != 0 || b_rc[2] != 0)
        die("B: thread blocked in lock when the owner process died: lock %d (%s), consistent %d, unlock %d; "
            "expected EOWNERDEAD (%d), 0, 0", b_rc[0], strerror(b_rc[0]), b_rc[1], b_rc[2], EOWNERDEAD);
    EXPECT_RC(pthread_mutex_lock(m), 0);
    EXPECT_RC(pthread_mutex_unlock(m), 0);
    printf("B: thread blocked in lock when the owner process died: EOWNERDEAD: ok\n");
}

/* ---- C: unlock without consistent: not recoverable ----------------------- */

static void part_c(void)
{
    pthread_mutex_t *m = &sh->m[MC];
    child_dies_holding(MC, "C: child that locks and dies");
    EXPECT_RC(pthread_mutex_lock(m), EOWNERDEAD);
    EXPECT_RC(pthread_mutex_unlock(m), 0);
    EXPECT_RC(pthread_mutex_lock(m), ENOTRECOVERABLE);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0)
        _exit(pthread_mutex_lock(m) == ENOTRECOVERABLE ? 0 : 1);
    wait_child(pid, 0, "C: a child's lock of the not recoverable mutex (expected ENOTRECOVERABLE)");
    sh->hrc = -1;
    wait_child(spawn_native("lock", MC, 0), 0, "C: native helper");
    if (sh->hrc != ENOTRECOVERABLE)
        die("C: a plain glibc process's lock of the not recoverable mutex: %d (%s), expected ENOTRECOVERABLE (%d)",
            sh->hrc, strerror(sh->hrc), ENOTRECOVERABLE);
    EXPECT_RC(pthread_mutex_consistent(m), EINVAL);
    /* last: glibc 2.36's trylock leaves the mutex locked here */
    EXPECT_RC(pthread_mutex_trylock(m), ENOTRECOVERABLE);
    printf("C: unlock without consistent: ENOTRECOVERABLE here, in a child and in plain glibc: ok\n");
}

/* ---- D: a plain glibc process on the other side -------------------------- */

static void part_d(void)
{
    /* 1: the glibc process dies holding it */
    pthread_mutex_t *m = &sh->m[MD1];
    sh->hrc = -1;
    wait_child(spawn_native("hold", MD1, 0), 0, "D1: native helper that locks and dies");
    if (sh->hrc != 0)
        die("D1: native helper's lock: %d, expected 0", sh->hrc);
    EXPECT_RC(pthread_mutex_lock(m), EOWNERDEAD);
    EXPECT_RC(pthread_mutex_consistent(m), 0);
    EXPECT_RC(pthread_mutex_unlock(m), 0);
    EXPECT_RC(pthread_mutex_lock(m), 0);
    EXPECT_RC(pthread_mutex_unlock(m), 0);

    /* 2: a glibc process blocked in lock while our child holding it dies */
    m = &sh->m[MD2];
    pid_t holder = fork_holder(m);
    wait_flag(&sh->held, 1, "D2: child to lock");
    sh->hrc = sh->hrc2 = -1;
    pid_t h = spawn_native("recover", MD2, 0);
    wait_waiters(m, "D2: native helper");
    atomic_store(&sh->go, 1);
    wait_child(holder, 0, "D2: child holding the mutex");
    wait_child(h, 0, "D2: native helper blocked in lock");
    if (sh->hrc != EOWNERDEAD || sh->hrc2 != 0)
        die("D2: plain glibc process blocked in lock when our child died: lock %d (%s), "
            "consistent+unlock %d; expected EOWNERDEAD (%d), 0", sh->hrc, strerror(sh->hrc), sh->hrc2, EOWNERDEAD);
    EXPECT_RC(pthread_mutex_lock(m), 0);
    EXPECT_RC(pthread_mutex_unlock(m), 0);

    /* 3: the glibc process makes it not recoverable; we see it */
    m = &sh->m[MD3];
    child_dies_holding(MD3, "D3: child that locks and dies");
    sh->hrc = sh->hrc2 = -1;
    wait_child(spawn_native("giveup", MD3, 0), 0, "D3: native helper");
    if (sh->hrc != EOWNERDEAD || sh->hrc2 != 0)
        die("D3: plain glibc process after our child died: lock %d (%s), unlock %d; expected EOWNERDEAD (%d), 0",
            sh->hrc, strerror(sh->hrc), sh->hrc2, EOWNERDEAD);
    EXPECT_RC(pthread_mutex_lock(m), ENOTRECOVERABLE);
    printf("D: plain glibc process: dies holding, recovers after ours died, makes it not recoverable: ok\n");
}

/* ---- E: a thread dies holding it ------------------------------------------ */

static void *lock_and_return(void *arg)
{
    return (void *)(intptr_t)pthread_mutex_lock(arg);
}

static atomic_int e_held, e_go, e_started;
static int e_rc[3];

static void *lock_and_linger(void *arg)
{
    if (pthread_mutex_lock(arg) != 0)
        return (void *)1;
    atomic_store(&e_held, 1);
    wait_flag(&e_go, 1, "E2: go");
    return NULL; /* exits holding it */
}

/* Lock m; if the owner died, recover.  Returns a code: 1 = EOWNERDEAD and
 * recovered, 2 = plain 0 (unlocked again), negative = unexpected. */
static int lock_recover(pthread_mutex_t *m, int *rc)
{
    rc[0] = pthread_mutex_lock(m);
    if (rc[0] == EOWNERDEAD) {
        if ((rc[1] = pthread_mutex_consistent(m)) != 0)
            return -1;
        if ((rc[2] = pthread_mutex_unlock(m)) != 0)
            return -2;
        return 1;
    }
    if (rc[0] == 0)
        return pthread_mutex_unlock(m) == 0 ? 2 : -3;
    return -4;
}

static int e_result;

static void *e_locker(void *arg)
{
    atomic_store(&e_started, 1);
    e_result = lock_recover(arg, e_rc);
    return NULL;
}

static void part_e(void)
{
    /* 1: a thread locks and returns */
    pthread_mutex_t *m = &sh->m[ME1];
    pthread_t t;
    void *ret;
    EXPECT_RC(pthread_create(&t, NULL, lock_and_return, m), 0);
    EXPECT_RC(pthread_join(t, &ret), 0);
    if (ret != NULL)
        die("E1: thread's lock returned %d", (int)(intptr_t)ret);
    EXPECT_RC(pthread_mutex_trylock(m), EOWNERDEAD);
    EXPECT_RC(pthread_mutex_consistent(m), 0);
    EXPECT_RC(pthread_mutex_unlock(m), 0);
    EXPECT_RC(pthread_mutex_lock(m), 0);
    EXPECT_RC(pthread_mutex_unlock(m), 0);

    /* 2: a thread and a child process both blocked while the holder
     * thread exits: one recovers (EOWNERDEAD), the other gets it after */
    m = &sh->m[ME2];
    EXPECT_RC(pthread_create(&t, NULL, lock_and_linger, m), 0);
    wait_flag(&e_held, 1, "E2: holder thread to lock");
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        int rc[3];
        int r = lock_recover(m, rc);
        _exit(r < 0 ? 10 - r : r);
    }
    wait_waiters(m, "E2: child process");
    pthread_t w;
    EXPECT_RC(pthread_create(&w, NULL, e_locker, m), 0);
    wait_flag(&e_started, 1, "E2: locker thread to start");
    ms_sleep(50); /* let it block too */
    atomic_store(&e_go, 1);
    EXPECT_RC(pthread_join(t, &ret), 0);
    if (ret != NULL)
        die("E2: holder thread's lock failed");
    EXPECT_RC(pthread_join(w, NULL), 0);
    int st;
    if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
        die("E2: child process did not exit");
    int child = WEXITSTATUS(st);
    if (!((child == 1 && e_result == 2) || (child == 2 && e_result == 1)))
        die("E2: after the holder thread exited: child process got %d, thread got %d (lock %d, consistent %d, "
            "unlock %d); expected one 1 (EOWNERDEAD, recovered) and one 2 (0)",
            child, e_result, e_rc[0], e_rc[1], e_rc[2]);
    EXPECT_RC(pthread_mutex_lock(m), 0);
    EXPECT_RC(pthread_mutex_unlock(m), 0);
    printf("E: thread died holding it: EOWNERDEAD here and in a blocked child process: ok\n");
}

/* ---- F: main thread gone first, then the process dies ------------------- */

static void *f_thread(void *arg)
{
    ms_sleep(100); /* main has called pthread_exit */
    int rc = pthread_mutex_lock(arg);
    fflush(NULL);
    _exit(rc == 0 ? 0 : 1);
}

static void part_f(void)
{
    pthread_mutex_t *m = &sh->m[MF];
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        pthread_t t;
        if (pthread_create(&t, NULL, f_thread, m) != 0)
            _exit(2);
        pthread_exit(NULL);
    }
    wait_child(pid, 0, "F: child whose main thread exits first");
    struct timespec dl = ts_in(CLOCK_REALTIME, 5000);
    EXPECT_RC(pthread_mutex_timedlock(m, &dl), EOWNERDEAD);
    EXPECT_RC(pthread_mutex_consistent(m), 0);
    EXPECT_RC(pthread_mutex_unlock(m), 0);
    printf("F: process whose main thread exited first dies holding it: EOWNERDEAD: ok\n");
}

/* ---- G: the holder execs ----------------------------------------------------- */

static void part_g(void)
{
    pthread_mutex_t *m = &sh->m[MG];
    atomic_store(&sh->exec_go, 0);
    atomic_store(&sh->held, 0);
    pid_t pid = spawn_native("linger", MG, 1);
    wait_flag(&sh->held, 1, "G: child to lock");
    struct timespec dl = ts_in(CLOCK_REALTIME, 10000);
    int rc = pthread_mutex_timedlock(m, &dl);
    int alive = waitpid(pid, NULL, WNOHANG) == 0;
    atomic_store(&sh->exec_go, 1);
    wait_child(pid, 0, "G: child that locked and exec'd");
    if (rc != EOWNERDEAD)
        die("G: lock after the holder exec'd: %d (%s), expected EOWNERDEAD (%d)", rc, strerror(rc), EOWNERDEAD);
    if (!alive)
        die("G: the exec'd process had already exited (the test proves nothing)");
    EXPECT_RC(pthread_mutex_consistent(m), 0);
    EXPECT_RC(pthread_mutex_unlock(m), 0);
    printf("G: holder exec'd: EOWNERDEAD while the new image runs: ok\n");
}

/* ---- H: ownership inside one process ----------------------------------------- */

static void *unlock_it(void *arg)
{
    return (void *)(intptr_t)pthread_mutex_unlock(arg);
}

static void part_h(void)
{
    pthread_mutex_t *m = &sh->m[MH_ERR];
    pthread_t t;
    void *ret;
    EXPECT_RC(pthread_mutex_lock(m), 0);
    EXPECT_RC(pthread_mutex_lock(m), EDEADLK);
    EXPECT_RC(pthread_create(&t, NULL, unlock_it, m), 0);
    EXPECT_RC(pthread_join(t, &ret), 0);
    if ((intptr_t)ret != EPERM)
        die("H: unlock by another thread: %d, expected EPERM (%d)", (int)(intptr_t)ret, EPERM);
    EXPECT_RC(pthread_mutex_unlock(m), 0);
    EXPECT_RC(pthread_mutex_unlock(m), EPERM);

    m = &sh->m[MH_REC];
    EXPECT_RC(pthread_mutex_lock(m), 0);
    EXPECT_RC(pthread_mutex_lock(m), 0);
    EXPECT_RC(pthread_mutex_unlock(m), 0);
    EXPECT_RC(pthread_mutex_unlock(m), 0);
    EXPECT_RC(pthread_mutex_unlock(m), EPERM);

    pthread_cond_t c;
    pthread_condattr_t ca;
    EXPECT_RC(pthread_condattr_init(&ca), 0);
    EXPECT_RC(pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED), 0);
    EXPECT_RC(pthread_cond_init(&c, &ca), 0);
    m = &sh->m[MH_ERR];
    EXPECT_RC(pthread_mutex_lock(m), 0);
    struct timespec dl = ts_in(CLOCK_REALTIME, 50);
    EXPECT_RC(pthread_cond_timedwait(&c, m, &dl), ETIMEDOUT);
    EXPECT_RC(pthread_mutex_unlock(m), 0);
    printf("H: EDEADLK, EPERM, recursion, condvar wait: ok\n");
}

/* ---- I: contention across processes and threads --------------------------- */

enum { I_THREADS = 3, I_ITERS = 3000 };

static void *i_worker(void *arg)
{
    pthread_mutex_t *m = &sh->m[MI];
    for (int i = 0; i < I_ITERS; i++) {
        int rc = pthread_mutex_lock(m);
        if (rc != 0)
            return (void *)(intptr_t)rc;
        long v = sh->counter;
        if ((i & 63) == 0)
            sched_yield();
        sh->counter = v + 1;
        if ((rc = pthread_mutex_unlock(m)) != 0)
            return (void *)(intptr_t)rc;
    }
    return NULL;
}

static int i_run(void)
{
    pthread_t t[I_THREADS];
    int bad = 0;
    for (int i = 0; i < I_THREADS; i++)
        if (pthread_create(&t[i], NULL, i_worker, NULL) != 0)
            return -1;
    for (int i = 0; i < I_THREADS; i++) {
        void *r;
        pthread_join(t[i], &r);
        if (r != NULL)
            bad = (int)(intptr_t)r;
    }
    return bad;
}

static void part_i(void)
{
    sh->counter = 0;
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0)
        _exit(i_run() ? 1 : 0);
    int rc = i_run();
    if (rc)
        die("I: a lock or unlock in the parent returned %d (%s)", rc, strerror(rc));
    wait_child(pid, 0, "I: child doing locked increments");
    if (sh->counter != 2L * I_THREADS * I_ITERS)
        die("I: counter %ld, expected %ld", sh->counter, 2L * I_THREADS * I_ITERS);
    printf("I: %ld locked increments from 2 processes x %d threads: ok\n", sh->counter, I_THREADS);
}

int main(int argc, char **argv)
{
    if (argc == 5 && !strcmp(argv[1], "helper"))
        return helper(atoi(argv[2]), argv[3], atoi(argv[4]));
    shfd = memfd_create("robust_pshared_proc", 0); /* no CLOEXEC: helpers map it */
    if (shfd < 0 || ftruncate(shfd, sizeof *sh) != 0)
        die("memfd: %s", strerror(errno));
    sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED, shfd, 0);
    if (sh == MAP_FAILED)
        die("mmap: %s", strerror(errno));
    for (int i = 0; i < NM; i++)
        init_mutex(&sh->m[i], i == MH_ERR ? PTHREAD_MUTEX_ERRORCHECK
                              : i == MH_REC ? PTHREAD_MUTEX_RECURSIVE
                                            : PTHREAD_MUTEX_NORMAL);
    part_a();
    part_b();
    part_c();
    part_d();
    part_e();
    part_f();
    part_g();
    part_h();
    part_i();
    printf("robust_pshared_proc: OK\n");
    return 0;
}
