// diag_dump_cmd: `greenrun dump PID` prints the live thread dump of a
// greenrun process, and refuses a process that does not run greenrun.
//
// Why: the dump command is how a user looks inside a running server
// (issue #5).  The program dumps itself: 50 "idler" threads wait on a
// condition variable, one "napper" sleeps in nanosleep, one "spinner"
// computes (a running thread: its stack is taken by its own OS thread in
// greenrun's signal handler, so spinner() must be on it); once all have
// announced themselves (counter + condvar), main runs
// `build/greenrun dump <its own pid>` with stdout on a pipe and reads it
// (so main itself is in IO wait on that pipe while the dump is taken).
// Checks: exit status 0; the title; "50 threads (ids 2..51, "idler"):
// cond" with idler() on the stack; thread 52 "napper" in "sleep" with
// napper() on the stack; main in "IO wait fd N read"; the end line.  Then
// `greenrun dump` of a plain process (sleep, without LD_PRELOAD) must fail
// with status 1 and say it does not run greenrun, and a bad PID with 2.
// The threads keep running afterwards: main wakes the idlers and joins
// them (the dump disturbed nothing).
// greenrun-test: native=no
// greenrun-test: env=GREENRUN_PROCS=2
// greenrun-test: env=GREENRUN_PROCS=1
// greenrun-test: timeout=60
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TEST_NAME "diag_dump_cmd"
#include "sync_util.h"

#define N 50

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t go = PTHREAD_COND_INITIALIZER, counted = PTHREAD_COND_INITIALIZER;
static int arrived, released;
static atomic_int spinning, stop_spin;

/* Computes until told to stop: a running thread, whose stack the dump
 * takes through its own OS thread (a signal). */
__attribute__((noinline)) static void *spinner(void *arg)
{
    pthread_setname_np(pthread_self(), "spinner");
    atomic_store(&spinning, 1);
    unsigned long x = 1;
    while (!atomic_load_explicit(&stop_spin, memory_order_relaxed))
        x = x * 6364136223846793005ul + 1442695040888963407ul;
    return (void *)x;
}

__attribute__((noinline)) static void *idler(void *arg)
{
    pthread_mutex_lock(&mu);
    if (++arrived == N + 1)
        pthread_cond_signal(&counted);
    while (!released)
        pthread_cond_wait(&go, &mu);
    pthread_mutex_unlock(&mu);
    return arg;
}

__attribute__((noinline)) static void *napper(void *arg)
{
    pthread_setname_np(pthread_self(), "napper");
    pthread_mutex_lock(&mu);
    if (++arrived == N + 1)
        pthread_cond_signal(&counted);
    pthread_mutex_unlock(&mu);
    struct timespec ts = {1000, 0};
    nanosleep(&ts, NULL); /* ended by exit */
    return arg;
}

/* Run build/greenrun with args; returns its exit status, output in out. */
static int run(char *out, size_t len, const char *a1, const char *a2)
{
    int fd[2];
    if (pipe(fd))
        die("pipe");
    pid_t p = fork();
    if (p < 0)
        die("fork");
    if (p == 0) {
        dup2(fd[1], 1);
        dup2(fd[1], 2);
        close(fd[0]);
        execl("build/greenrun", "greenrun", a1, a2, (char *)NULL);
        _exit(127);
    }
    close(fd[1]);
    size_t k = 0;
    ssize_t r;
    while ((r = read(fd[0], out + k, len - 1 - k)) > 0)
        k += (size_t)r;
    out[k] = 0;
    close(fd[0]);
    int st;
    if (waitpid(p, &st, 0) != p || !WIFEXITED(st))
        die("greenrun %s %s did not exit normally", a1, a2);
    return WEXITSTATUS(st);
}

static void need(const char *out, const char *what)
{
    if (!strstr(out, what))
        die("dump lacks \"%s\"; dump:\n%s", what, out);
}

int main(void)
{
    static char out[1 << 20];
    pthread_t t[N + 1];
    pthread_setname_np(pthread_self(), "idler");
    for (int i = 0; i < N; i++)
        if (pthread_create(&t[i], NULL, idler, NULL))
            die("create");
    if (pthread_create(&t[N], NULL, napper, NULL))
        die("create");
    pthread_t sp;
    if (pthread_create(&sp, NULL, spinner, NULL))
        die("create");
    while (!atomic_load(&spinning))
        sched_yield();
    pthread_setname_np(pthread_self(), "main");
    pthread_mutex_lock(&mu);
    while (arrived < N + 1)
        pthread_cond_wait(&counted, &mu);
    pthread_mutex_unlock(&mu);

    char pid[32];
    snprintf(pid, sizeof pid, "%d", (int)getpid());
    int rc = run(out, sizeof out, "dump", pid);
    if (rc != 0)
        die("greenrun dump exited %d:\n%s", rc, out);
    need(out, "greenrun: thread dump (greenrun dump)\n");
    need(out, "\n50 threads (ids 2..51, \"idler\"): cond, waiting ");
    need(out, "\n    idler+0x");
    need(out, "\nthread 52 \"napper\": sleep, waiting ");
    need(out, "\n    napper+0x");
    need(out, "\nthread 1 \"main\" (main): IO wait fd ");
    need(out, "\nthread 53 \"spinner\": running on M");
    need(out, "\n    spinner+0x");
    need(out, "greenrun: end of thread dump (greenrun dump)");

    /* a process without greenrun: sleep(1) with LD_PRELOAD removed; the
     * close-on-exec pipe reaches EOF once it has exec'd */
    int ex[2];
    if (pipe2(ex, O_CLOEXEC))
        die("pipe2");
    pid_t plain = fork();
    if (plain == 0) {
        unsetenv("LD_PRELOAD");
        execl("/bin/sleep", "sleep", "30", (char *)NULL);
        _exit(127);
    }
    close(ex[1]);
    char c;
    if (read(ex[0], &c, 1) != 0)
        die("exec of sleep failed");
    close(ex[0]);
    snprintf(pid, sizeof pid, "%d", (int)plain);
    rc = run(out, sizeof out, "dump", pid);
    kill(plain, SIGKILL);
    waitpid(plain, NULL, 0);
    if (rc != 1 || !strstr(out, "does not run greenrun"))
        die("greenrun dump <plain pid>: status %d, output: %s", rc, out);
    rc = run(out, sizeof out, "dump", "12x");
    if (rc != 2)
        die("greenrun dump 12x: status %d, output: %s", rc, out);

    pthread_mutex_lock(&mu);
    released = 1;
    pthread_cond_broadcast(&go);
    pthread_mutex_unlock(&mu);
    for (int i = 0; i < N; i++)
        pthread_join(t[i], NULL);
    atomic_store(&stop_spin, 1);
    pthread_join(sp, NULL);
    printf("dump command checked\n");
    return 0;
}
