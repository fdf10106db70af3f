// no_threads: a program that never creates a thread behaves exactly as it
// does natively under greenrun.
//
// Why: greenrun is preloaded into everything the launcher starts, including
// plain single-threaded programs (and the children they fork).  Its
// constructor and runtime must be invisible to them: stdio works, errno
// works, fork()+waitpid() work (the child is a fresh single-threaded
// process that can malloc, use stdio and exit(3) through atexit handlers),
// malloc/calloc/realloc/free under heavy use work, and main's return value
// is the exit status.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define FAIL(...) do {                                                        \
        fprintf(stderr, "FAIL no_threads: " __VA_ARGS__);                     \
        fputc('\n', stderr);                                                  \
        exit(1);                                                              \
    } while (0)

static int child_pipe[2];
static void child_atexit(void)
{
    /* Runs in the child on exit(3): proves exit handlers work after fork. */
    const char msg[] = "child-atexit";
    if (write(child_pipe[1], msg, sizeof msg - 1) < 0)
        _exit(99);
}

static uint64_t rng = 88172645463325252ULL;
static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void malloc_workout(void)
{
    enum { SLOTS = 4096, ROUNDS = 200000 };
    static unsigned char *p[SLOTS];
    static size_t sz[SLOTS];
    for (int r = 0; r < ROUNDS; r++) {
        int i = next() % SLOTS;
        if (p[i]) {
            for (size_t k = 0; k < sz[i]; k += 61)
                if (p[i][k] != (unsigned char)(i + k))
                    FAIL("malloc block %d corrupted at %zu: expected %u, got %u", i, k,
                         (unsigned)(unsigned char)(i + k), p[i][k]);
            if (next() % 4 == 0) {
                size_t nsz = 1 + next() % (next() % 16 == 0 ? 300000 : 2000);
                unsigned char *q = realloc(p[i], nsz);
                if (!q)
                    FAIL("realloc(%zu) failed", nsz);
                size_t keep = nsz < sz[i] ? nsz : sz[i];
                for (size_t k = 0; k < keep; k += 61)
                    if (q[k] != (unsigned char)(i + k))
                        FAIL("realloc lost data of block %d at %zu", i, k);
                p[i] = q;
                sz[i] = nsz;
                for (size_t k = 0; k < nsz; k++)
                    q[k] = (unsigned char)(i + k);
                continue;
            }
            free(p[i]);
            p[i] = NULL;
            continue;
        }
        size_t n = 1 + next() % (next() % 16 == 0 ? 300000 : 2000);
        if (next() % 3 == 0) {
            p[i] = calloc(1, n);
            if (!p[i])
                FAIL("calloc(%zu) failed", n);
            for (size_t k = 0; k < n; k++)
                if (p[i][k] != 0)
                    FAIL("calloc(%zu) memory not zero at %zu", n, k);
        } else {
            p[i] = malloc(n);
            if (!p[i])
                FAIL("malloc(%zu) failed", n);
        }
        sz[i] = n;
        for (size_t k = 0; k < n; k++)
            p[i][k] = (unsigned char)(i + k);
    }
    for (int i = 0; i < SLOTS; i++)
        free(p[i]);
}

int main(int argc, char **argv)
{
    if (argc < 1 || !argv[0] || !*argv[0])
        FAIL("argv[0] missing");

    printf("no_threads: hello from a single-threaded program (pid %ld)\n", (long)getpid());

    /* errno */
    errno = 0;
    int fd = open("/nonexistent/greenrun/no_threads", O_RDONLY);
    if (fd != -1 || errno != ENOENT)
        FAIL("open(nonexistent): expected -1/ENOENT, got %d/%d (%s)", fd, errno, strerror(errno));
    errno = 0;
    long v = strtol("999999999999999999999999", NULL, 10);
    if (errno != ERANGE || v != LONG_MAX)
        FAIL("strtol overflow: expected LONG_MAX/ERANGE, got %ld/%d", v, errno);
    errno = 1234;
    if (errno != 1234)
        FAIL("errno round trip: expected 1234, got %d", errno);

    malloc_workout();

    /* fork + waitpid */
    if (pipe(child_pipe) != 0)
        FAIL("pipe: %s", strerror(errno));
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0)
        FAIL("fork: %s", strerror(errno));
    if (pid == 0) {
        close(child_pipe[0]);
        if (atexit(child_atexit) != 0)
            _exit(98);
        char *m = malloc(1 << 20);          /* malloc works in the child */
        if (!m)
            _exit(97);
        memset(m, 1, 1 << 20);
        free(m);
        printf("no_threads: child %ld exiting with 3\n", (long)getpid());
        exit(3);
    }
    close(child_pipe[1]);
    int status = 0;
    pid_t w;
    while ((w = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
        ;
    if (w != pid)
        FAIL("waitpid: expected %ld, got %ld (%s)", (long)pid, (long)w, strerror(errno));
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 3)
        FAIL("child status: expected exited with 3, got %s %d", WIFEXITED(status) ? "exited with" :
             WIFSIGNALED(status) ? "killed by signal" : "status", WIFEXITED(status) ? WEXITSTATUS(status) :
             WIFSIGNALED(status) ? WTERMSIG(status) : status);
    char buf[64] = { 0 };
    ssize_t n, got = 0;
    while ((n = read(child_pipe[0], buf + got, sizeof buf - 1 - got)) > 0)
        got += n;
    close(child_pipe[0]);
    if (strcmp(buf, "child-atexit") != 0)
        FAIL("child's atexit handler: expected \"child-atexit\" on the pipe, got \"%s\"", buf);

    /* A second waitpid has no children left. */
    errno = 0;
    if (waitpid(-1, &status, WNOHANG) != -1 || errno != ECHILD)
        FAIL("waitpid with no children: expected -1/ECHILD, got errno %d", errno);

    printf("no_threads: OK\n");
    return 0;
}
