// blocked: do the other threads keep going while one thread sits in a
// blocking call that has no poller?  (issue #7, acceptance item 2)
//
//   blocked MODE [WORKERS] [SECONDS]      (defaults 1000 workers, 2 s)
//
// WORKERS threads work in pairs: A computes a little (~2 us), writes one
// byte into its pipe to B and reads B's answer from another pipe; B reads,
// computes, answers.  So every round is CPU work plus blocking pipe I/O.
// The main thread lets things settle, counts the rounds the workers
// complete for SECONDS/2, then for about SECONDS does one of (MODE):
//   none      nanosleep(SECONDS): nothing blocks an OS thread (a control)
//   waitpid   fork+exec `sleep SECONDS` and block in waitpid() on it
//   flock     block in flock(LOCK_EX) on a file whose lock another open
//             file description holds; a helper thread drops it after SECONDS
// counting the rounds meanwhile, then counts SECONDS/2 more.  Prints
// blocked_rounds_per_s (rounds/s during the call),
// blocked_base_rounds_per_s (rounds/s before and after it),
// blocked_drop_pct = 100 * (1 - during / base) and blocked_call_s (how long
// the call lasted).  Under an M:N runtime without syscall hand-off the
// blocked call would take a whole OS thread (and its CPU's share) away
// from the others: with P OS threads a drop of 1/P.
// A benchmark, not a test.
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct pair {
    int ab[2], ba[2];
    _Atomic long rounds;
    char pad[40];
};

static struct pair *pairs;
static long npairs;
static double secs = 2;
static atomic_int stop;
static volatile double sink;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sleep_s(double s)
{
    struct timespec ts = {.tv_sec = (time_t)s, .tv_nsec = (long)((s - (time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

static void compute(void)
{
    double x = 1.0;
    for (int k = 0; k < 800; k++)
        x = x * 1.0000001 + 0.5;
    sink = x;
}

static void *side_a(void *arg)
{
    struct pair *p = arg;
    char c = 0;
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        compute();
        if (write(p->ab[1], &c, 1) != 1 || read(p->ba[0], &c, 1) != 1) {
            perror("blocked: pipe I/O (A)");
            exit(1);
        }
        atomic_fetch_add_explicit(&p->rounds, 1, memory_order_relaxed);
    }
    close(p->ab[1]); /* B sees EOF and exits */
    return NULL;
}

static void *side_b(void *arg)
{
    struct pair *p = arg;
    char c;
    while (read(p->ab[0], &c, 1) == 1) {
        compute();
        if (write(p->ba[1], &c, 1) != 1) {
            perror("blocked: pipe I/O (B)");
            exit(1);
        }
    }
    return NULL;
}

static long rounds(void)
{
    long t = 0;
    for (long i = 0; i < npairs; i++)
        t += atomic_load_explicit(&pairs[i].rounds, memory_order_relaxed);
    return t;
}

static int lockfd;

static void *unlocker(void *arg)
{
    (void)arg;
    sleep_s(secs);
    flock(lockfd, LOCK_UN);
    return NULL;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "none";
    long workers = argc > 2 ? strtol(argv[2], NULL, 10) : 1000;
    if (argc > 3)
        secs = atof(argv[3]);
    if (workers < 2 || secs <= 0 ||
        (strcmp(mode, "none") && strcmp(mode, "waitpid") && strcmp(mode, "flock"))) {
        fprintf(stderr, "usage: blocked none|waitpid|flock [WORKERS] [SECONDS]\n");
        return 2;
    }
    npairs = workers / 2;
    pairs = calloc(npairs, sizeof *pairs);
    pthread_t *t = calloc(2 * npairs, sizeof *t);
    if (!pairs || !t) {
        fprintf(stderr, "blocked: out of memory\n");
        return 1;
    }
    for (long i = 0; i < npairs; i++) {
        if (pipe(pairs[i].ab) || pipe(pairs[i].ba)) {
            perror("blocked: pipe");
            return 1;
        }
        if (pthread_create(&t[2 * i], NULL, side_b, &pairs[i]) ||
            pthread_create(&t[2 * i + 1], NULL, side_a, &pairs[i])) {
            fprintf(stderr, "blocked: pthread_create failed\n");
            return 1;
        }
    }
    char path[] = "/tmp/greenrun-bench-flock-XXXXXX";
    int fd2 = -1;
    if (!strcmp(mode, "flock")) {
        lockfd = mkstemp(path);
        fd2 = lockfd >= 0 ? open(path, O_RDWR) : -1;
        if (fd2 < 0 || flock(lockfd, LOCK_EX) != 0) {
            perror("blocked: lock file");
            return 1;
        }
        unlink(path);
    }
    /* Rounds/s before and after the call (nothing blocked) are the
     * baseline; measured in the same process right around the call, so the
     * load of a shared machine hits both alike. */
    sleep_s(0.3);
    long ra = rounds();
    double ta = now();
    sleep_s(secs / 2);
    pthread_t u;
    long r0 = rounds();
    double t0 = now();
    if (!strcmp(mode, "none")) {
        sleep_s(secs);
    } else if (!strcmp(mode, "waitpid")) {
        char arg[32];
        snprintf(arg, sizeof arg, "%g", secs);
        pid_t pid = fork();
        if (pid == 0) {
            execlp("sleep", "sleep", arg, (char *)NULL);
            _exit(127);
        }
        int st;
        if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st)) {
            fprintf(stderr, "blocked: child sleep failed\n");
            return 1;
        }
    } else {
        pthread_create(&u, NULL, unlocker, NULL);
        if (flock(fd2, LOCK_EX) != 0) {
            perror("blocked: flock");
            return 1;
        }
        pthread_join(u, NULL);
    }
    double t1 = now();
    long r1 = rounds();
    sleep_s(secs / 2);
    long rb = rounds();
    double tb = now();
    atomic_store(&stop, 1);
    for (long i = 0; i < 2 * npairs; i++)
        pthread_join(t[i], NULL);
    double base = (double)(r0 - ra + rb - r1) / (t0 - ta + tb - t1);
    double during = (r1 - r0) / (t1 - t0);
    printf("blocked_base_rounds_per_s=%.0f\n", base);
    printf("blocked_rounds_per_s=%.0f\n", during);
    printf("blocked_drop_pct=%.1f\n", 100 * (1 - during / base));
    printf("blocked_call_s=%.3f\n", t1 - t0);
    return 0;
}
