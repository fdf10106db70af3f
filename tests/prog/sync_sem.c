// sync_sem: POSIX semaphores (shim/sem.c), unnamed, named and shared
// across fork().
//
// Why: greenrun's sem_wait parks the green thread for private semaphores
// and keeps glibc's layout so that named and process-shared semaphores
// still work with other processes.  Lost posts show up as a wrong count or
// a hang; error numbers must stay glibc's.
//
// Checks:
//   - bounded buffer (16 slots) guarded by two semaphores, empty (16) and
//     full (0), plus a mutex: 4 producers x 25,000 items (values 1..100,000,
//     each once), 4 consumers x 25,000; exact count, exact sum
//     100,000 * 100,001 / 2, every value seen exactly once; at the end
//     sem_getvalue(empty) == 16, sem_getvalue(full) == 0;
//   - sem_trywait on 0 -> -1/EAGAIN; sem_timedwait on 0 -> -1/ETIMEDOUT,
//     not before the CLOCK_REALTIME deadline; sem_clockwait(CLOCK_MONOTONIC)
//     likewise; tv_nsec = 1e9 or -1 -> -1/EINVAL; sem_timedwait on a
//     positive semaphore -> 0;
//   - sem_getvalue exact after init 5, two waits and three posts (6);
//   - sem_init(SEM_VALUE_MAX) then sem_post -> -1/EOVERFLOW and the value
//     stays SEM_VALUE_MAX; sem_init(SEM_VALUE_MAX + 1) -> -1/EINVAL;
//   - a waiter blocked in sem_wait is woken by a post from another thread
//     (1,000 hand-offs between two threads with two semaphores);
//   - named: sem_open(O_CREAT | O_EXCL, value 0); a fork()ed child posts
//     it 3 times, 50 ms apart (so that the parent is likely blocked); the parent sem_timedwait's 3 times
//     (10 s bound each) -> 0; sem_getvalue 0; the child exits 0; sem_close
//     and sem_unlink -> 0; a second sem_unlink -> -1/ENOENT;
//     (every wait must be woken by the post: a timed wait that succeeds
//     only at its deadline - the unit found on the last look - is a
//     lost wake-up and fails the test);
//   - unnamed pshared (sem_init(pshared = 1)) in MAP_SHARED memory: parent
//     and a fork()ed child ping-pong 200 times through two semaphores
//     (bounded timed waits on both sides); exact counters in the shared page.
// The fork()ed children only use sem_post, sem_timedwait, clock_gettime and
// _exit (a child of a multithreaded parent should stick to
// async-signal-safe calls).
// greenrun-test: env=GREENRUN_PROCS=1
// greenrun-test: env=GREENRUN_PROCS=2
// greenrun-test: timeout=120
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TEST_NAME "sync_sem"
#include "sync_util.h"

/* For sem_*: expect -1 with errno e (or 0 when e == 0). */
#define EXPECT_SEM(call, e) do {                                              \
        errno = 0;                                                            \
        int rc_ = (call);                                                     \
        int er_ = errno;                                                      \
        if ((e) == 0 ? rc_ != 0 : (rc_ != -1 || er_ != (e)))                  \
            die("line %d: %s: expected %s, got %d (errno %d: %s)", __LINE__,  \
                #call, (e) == 0 ? "0" : "-1/" #e, rc_, er_, strerror(er_));   \
    } while (0)

static int getval(sem_t *s)
{
    int v = -12345;
    if (sem_getvalue(s, &v) != 0)
        die("sem_getvalue failed: %s", strerror(errno));
    return v;
}

/* sem_timedwait with a relative bound, retrying on EINTR.  A success at
 * or after the deadline means the post did not wake us (the wait only
 * found the unit on its last look after timing out): counted in late_wakes. */
static atomic_int late_wakes;
static int twait(sem_t *s, long ms)
{
    struct timespec dl = ts_in(CLOCK_REALTIME, ms);
    int rc;
    while ((rc = sem_timedwait(s, &dl)) == -1 && errno == EINTR)
        ;
    if (rc == 0) {
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        if (!ts_before(&now, &dl))
            atomic_fetch_add(&late_wakes, 1);
    }
    return rc;
}

static void check_no_late(const char *what)
{
    if (atomic_load(&late_wakes))
        die("%s: %d sem_timedwait calls succeeded only at their deadline (10-30 s): the sem_post "
            "did not wake the waiter", what, atomic_load(&late_wakes));
}

/* A delay for the fork()ed children that only reads the clock (they stick
 * to async-signal-safe calls that do not block: sem_post, clock_gettime,
 * _exit, and sem_timedwait on the shared semaphore). */
static void spin_ms(long ms)
{
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    do
        clock_gettime(CLOCK_MONOTONIC, &b);
    while ((b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000 < ms);
}

/* ---------------- bounded buffer ---------------- */
#define SLOTS 16
#define NPROD 4
#define NCONS 4
#define ITEMS 100000
#define PER (ITEMS / NPROD)
static sem_t s_empty, s_full;
static pthread_mutex_t buf_m = PTHREAD_MUTEX_INITIALIZER;
static int buf[SLOTS], head, tail, fill;
static unsigned char seen[ITEMS + 1];
static long long sum;
static long consumed;
static atomic_int pc_bad;

static void *producer(void *arg)
{
    int p = (int)(intptr_t)arg;
    for (int i = 0; i < PER; i++) {
        int v = p * PER + i + 1;
        if (twait(&s_empty, 30000) != 0)
            die("producer %d item %d: sem_timedwait(empty) failed after 30 s: %s", p, i, strerror(errno));
        pthread_mutex_lock(&buf_m);
        if (fill >= SLOTS)
            atomic_fetch_add(&pc_bad, 1);
        buf[tail] = v;
        tail = (tail + 1) % SLOTS;
        fill++;
        pthread_mutex_unlock(&buf_m);
        if (sem_post(&s_full) != 0)
            die("producer: sem_post(full): %s", strerror(errno));
    }
    return NULL;
}

static void *consumer(void *arg)
{
    int c = (int)(intptr_t)arg;
    for (int i = 0; i < ITEMS / NCONS; i++) {
        if (twait(&s_full, 30000) != 0)
            die("consumer %d item %d: sem_timedwait(full) failed after 30 s: %s", c, i, strerror(errno));
        pthread_mutex_lock(&buf_m);
        if (fill <= 0)
            atomic_fetch_add(&pc_bad, 1);
        int v = buf[head];
        head = (head + 1) % SLOTS;
        fill--;
        if (v < 1 || v > ITEMS || seen[v]++)
            atomic_fetch_add(&pc_bad, 1);
        sum += v;
        consumed++;
        pthread_mutex_unlock(&buf_m);
        if (sem_post(&s_empty) != 0)
            die("consumer: sem_post(empty): %s", strerror(errno));
    }
    return NULL;
}

static void test_buffer(void)
{
    EXPECT_SEM(sem_init(&s_empty, 0, SLOTS), 0);
    EXPECT_SEM(sem_init(&s_full, 0, 0), 0);
    pthread_t p[NPROD], c[NCONS];
    for (int i = 0; i < NCONS; i++)
        EXPECT_RC(pthread_create(&c[i], NULL, consumer, (void *)(intptr_t)i), 0);
    for (int i = 0; i < NPROD; i++)
        EXPECT_RC(pthread_create(&p[i], NULL, producer, (void *)(intptr_t)i), 0);
    for (int i = 0; i < NPROD; i++)
        EXPECT_RC(pthread_join(p[i], NULL), 0);
    for (int i = 0; i < NCONS; i++)
        EXPECT_RC(pthread_join(c[i], NULL), 0);
    check_no_late("bounded buffer");
    if (atomic_load(&pc_bad))
        die("bounded buffer: %d violations (overfull/underfull buffer or duplicate/bad value)",
            atomic_load(&pc_bad));
    long long want = (long long)ITEMS * (ITEMS + 1) / 2;
    if (consumed != ITEMS || sum != want)
        die("bounded buffer: consumed %ld items summing to %lld, expected %d and %lld", consumed, sum, ITEMS, want);
    for (int v = 1; v <= ITEMS; v++)
        if (seen[v] != 1)
            die("bounded buffer: value %d seen %d times", v, seen[v]);
    if (getval(&s_empty) != SLOTS || getval(&s_full) != 0)
        die("bounded buffer: final values empty=%d full=%d, expected %d and 0", getval(&s_empty),
            getval(&s_full), SLOTS);
    EXPECT_SEM(sem_destroy(&s_empty), 0);
    EXPECT_SEM(sem_destroy(&s_full), 0);
}

/* ---------------- errors and values ---------------- */
static void test_errors(void)
{
    sem_t s;
    EXPECT_SEM(sem_init(&s, 0, 0), 0);
    EXPECT_SEM(sem_trywait(&s), EAGAIN);
    struct timespec dl = ts_in(CLOCK_REALTIME, 50);
    EXPECT_SEM(sem_timedwait(&s, &dl), ETIMEDOUT);
    check_not_early(CLOCK_REALTIME, &dl, "sem_timedwait (50 ms)");
    dl = ts_in(CLOCK_MONOTONIC, 40);
    EXPECT_SEM(sem_clockwait(&s, CLOCK_MONOTONIC, &dl), ETIMEDOUT);
    check_not_early(CLOCK_MONOTONIC, &dl, "sem_clockwait(CLOCK_MONOTONIC, 40 ms)");
    dl = ts_in(CLOCK_REALTIME, 0);
    dl.tv_sec -= 3;
    EXPECT_SEM(sem_timedwait(&s, &dl), ETIMEDOUT);
    struct timespec bad = ts_in(CLOCK_REALTIME, 1000);
    bad.tv_nsec = 1000000000L;
    EXPECT_SEM(sem_timedwait(&s, &bad), EINVAL);
    bad.tv_nsec = -1;
    EXPECT_SEM(sem_timedwait(&s, &bad), EINVAL);
    if (getval(&s) != 0)
        die("sem_getvalue after failed waits: expected 0, got %d", getval(&s));
    EXPECT_SEM(sem_post(&s), 0);
    dl = ts_in(CLOCK_REALTIME, 1000);
    EXPECT_SEM(sem_timedwait(&s, &dl), 0);
    EXPECT_SEM(sem_destroy(&s), 0);

    EXPECT_SEM(sem_init(&s, 0, 5), 0);
    if (getval(&s) != 5)
        die("sem_getvalue after init 5: got %d", getval(&s));
    EXPECT_SEM(sem_wait(&s), 0);
    EXPECT_SEM(sem_trywait(&s), 0);
    if (getval(&s) != 3)
        die("sem_getvalue after 2 waits: expected 3, got %d", getval(&s));
    for (int i = 0; i < 3; i++)
        EXPECT_SEM(sem_post(&s), 0);
    if (getval(&s) != 6)
        die("sem_getvalue after 3 posts: expected 6, got %d", getval(&s));
    EXPECT_SEM(sem_destroy(&s), 0);

    EXPECT_SEM(sem_init(&s, 0, SEM_VALUE_MAX), 0);
    EXPECT_SEM(sem_post(&s), EOVERFLOW);
    if (getval(&s) != SEM_VALUE_MAX)
        die("sem_getvalue after EOVERFLOW: expected SEM_VALUE_MAX, got %d", getval(&s));
    EXPECT_SEM(sem_trywait(&s), 0);
    EXPECT_SEM(sem_post(&s), 0);
    EXPECT_SEM(sem_post(&s), EOVERFLOW);
    EXPECT_SEM(sem_destroy(&s), 0);
    EXPECT_SEM(sem_init(&s, 0, (unsigned)SEM_VALUE_MAX + 1u), EINVAL);
}

/* ---------------- hand-off between two threads ---------------- */
static sem_t h_a, h_b;
static long h_count[2];
static void *handoff(void *arg)
{
    int me = (int)(intptr_t)arg;
    sem_t *mine = me ? &h_b : &h_a, *theirs = me ? &h_a : &h_b;
    for (int i = 0; i < 1000; i++) {
        if (twait(mine, 30000) != 0)
            die("hand-off thread %d round %d: sem_timedwait failed after 30 s: %s", me, i, strerror(errno));
        h_count[me]++;
        if (sem_post(theirs) != 0)
            die("hand-off: sem_post: %s", strerror(errno));
    }
    return NULL;
}

static void test_handoff(void)
{
    EXPECT_SEM(sem_init(&h_a, 0, 1), 0);
    EXPECT_SEM(sem_init(&h_b, 0, 0), 0);
    pthread_t a, b;
    EXPECT_RC(pthread_create(&a, NULL, handoff, (void *)0), 0);
    EXPECT_RC(pthread_create(&b, NULL, handoff, (void *)1), 0);
    EXPECT_RC(pthread_join(a, NULL), 0);
    EXPECT_RC(pthread_join(b, NULL), 0);
    check_no_late("hand-off");
    if (h_count[0] != 1000 || h_count[1] != 1000 || getval(&h_a) != 1 || getval(&h_b) != 0)
        die("hand-off: counts %ld/%ld, values %d/%d; expected 1000/1000, 1/0", h_count[0], h_count[1],
            getval(&h_a), getval(&h_b));
}

/* ---------------- across fork ---------------- */
static void wait_child(pid_t pid, const char *what)
{
    int st;
    pid_t r;
    while ((r = waitpid(pid, &st, 0)) == -1 && errno == EINTR)
        ;
    if (r != pid)
        die("%s: waitpid: %s", what, strerror(errno));
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        die("%s: child ended with status 0x%x (exit %d)", what, st, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

static void test_named(void)
{
    char name[64];
    snprintf(name, sizeof name, "/greenrun_sync_sem_%d", (int)getpid());
    sem_unlink(name);
    sem_t *s = sem_open(name, O_CREAT | O_EXCL, 0600, 0);
    if (s == SEM_FAILED)
        die("sem_open(%s, O_CREAT|O_EXCL): %s", name, strerror(errno));
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        die("fork: %s", strerror(errno));
    if (pid == 0) {
        /* POSIX: the parent's open named semaphores stay open in the child */
        for (int i = 0; i < 3; i++) {
            spin_ms(50);   /* let the parent block first (not needed for correctness) */
            if (sem_post(s) != 0)
                _exit(4);
        }
        _exit(0);
    }
    for (int i = 0; i < 3; i++)
        if (twait(s, 10000) != 0)
            die("named semaphore: wait #%d for the child's post failed after 10 s: %s", i, strerror(errno));
    wait_child(pid, "named semaphore");
    check_no_late("named semaphore posted by a fork()ed child");
    if (getval(s) != 0)
        die("named semaphore: value after 3 posts and 3 waits: expected 0, got %d", getval(s));
    EXPECT_SEM(sem_trywait(s), EAGAIN);
    EXPECT_SEM(sem_close(s), 0);
    EXPECT_SEM(sem_unlink(name), 0);
    EXPECT_SEM(sem_unlink(name), ENOENT);
}

struct shpage {
    sem_t to_child, to_parent;
    long child_count, parent_count;
};

static void test_pshared(void)
{
    struct shpage *pg = mmap(NULL, sizeof *pg, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (pg == MAP_FAILED)
        die("mmap(MAP_SHARED): %s", strerror(errno));
    EXPECT_SEM(sem_init(&pg->to_child, 1, 0), 0);
    EXPECT_SEM(sem_init(&pg->to_parent, 1, 0), 0);
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        die("fork: %s", strerror(errno));
    if (pid == 0) {
        for (int i = 0; i < 200; i++) {
            if (twait(&pg->to_child, 10000) != 0)
                _exit(5);
            pg->child_count++;
            if (sem_post(&pg->to_parent) != 0)
                _exit(6);
        }
        _exit(0);
    }
    for (int i = 0; i < 200; i++) {
        if (sem_post(&pg->to_child) != 0)
            die("pshared: sem_post: %s", strerror(errno));
        if (twait(&pg->to_parent, 10000) != 0)
            die("pshared semaphore: round %d: no answer from the child in 10 s: %s", i, strerror(errno));
        pg->parent_count++;
        if (pg->child_count != i + 1)
            die("pshared semaphore: round %d: child count %ld, expected %d", i, pg->child_count, i + 1);
    }
    wait_child(pid, "pshared semaphore");
    check_no_late("pshared semaphore ping-pong with a fork()ed child");
    if (pg->child_count != 200 || pg->parent_count != 200 || getval(&pg->to_child) != 0 ||
        getval(&pg->to_parent) != 0)
        die("pshared semaphore: counts %ld/%ld values %d/%d, expected 200/200 0/0", pg->child_count,
            pg->parent_count, getval(&pg->to_child), getval(&pg->to_parent));
    EXPECT_SEM(sem_destroy(&pg->to_child), 0);
    EXPECT_SEM(sem_destroy(&pg->to_parent), 0);
    munmap(pg, sizeof *pg);
}

int main(void)
{
    test_errors();
    test_handoff();
    test_buffer();
    test_named();
    test_pshared();
    printf("sync_sem: OK\n");
    return 0;
}
