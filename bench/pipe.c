// pipe: pipe ping-pong round trip between two threads.
//
//   pipe [M]      (M round trips, default 100000)
//
// Thread A writes one byte into pipe 1 and reads one byte from pipe 2;
// thread B reads pipe 1 and writes pipe 2.  Blocking read()/write() on
// plain pipe(2) fds: natively each hand-over wakes a thread in the kernel,
// under greenrun it parks a green thread in the netpoller.  Prints
// pipe_roundtrip_ns=X; exit 1 on a short read or a wrong byte.
// A benchmark, not a test.
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int p1[2], p2[2];
static long rounds;

static void fail(const char *what)
{
    perror(what);
    exit(1);
}

static void *ping(void *arg)
{
    (void)arg;
    for (long r = 0; r < rounds; r++) {
        char c = (char)r, d;
        if (write(p1[1], &c, 1) != 1)
            fail("pipe: write");
        if (read(p2[0], &d, 1) != 1 || d != (char)(c + 1))
            fail("pipe: read (ping)");
    }
    return NULL;
}

static void *pong(void *arg)
{
    (void)arg;
    for (long r = 0; r < rounds; r++) {
        char c;
        if (read(p1[0], &c, 1) != 1)
            fail("pipe: read (pong)");
        c++;
        if (write(p2[1], &c, 1) != 1)
            fail("pipe: write");
    }
    return NULL;
}

int main(int argc, char **argv)
{
    rounds = argc > 1 ? strtol(argv[1], NULL, 10) : 100000;
    if (rounds <= 0) {
        fprintf(stderr, "usage: pipe [round-trips]\n");
        return 2;
    }
    if (pipe(p1) != 0 || pipe(p2) != 0)
        fail("pipe: pipe");
    struct timespec a, b;
    pthread_t ta, tb;
    clock_gettime(CLOCK_MONOTONIC, &a);
    int rc = pthread_create(&tb, NULL, pong, NULL);
    if (rc == 0)
        rc = pthread_create(&ta, NULL, ping, NULL);
    if (rc != 0) {
        fprintf(stderr, "pipe: pthread_create: %s\n", strerror(rc));
        return 1;
    }
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    clock_gettime(CLOCK_MONOTONIC, &b);
    double ns = (b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec);
    printf("pipe_roundtrip_ns=%.1f\n", ns / rounds);
    return 0;
}
