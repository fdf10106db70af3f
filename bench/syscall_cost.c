// syscall_cost: the cost of system calls that return at once.
//
//   syscall_cost [M]      (M calls of each kind, default 2000000)
//
// Times M x syscall(SYS_getppid) and M x read(fd, buf, 1) on /dev/zero
// (a character device: not pollable, so greenrun runs it as a plain system
// call between entersyscall/exitsyscall).  Prints getppid_ns=X and
// read_devzero_ns=Y per call.  Run natively and under greenrun: the
// difference is greenrun's overhead per interposed call.
// A benchmark, not a test.
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(int argc, char **argv)
{
    long m = argc > 1 ? strtol(argv[1], NULL, 10) : 2000000;
    if (m <= 0) {
        fprintf(stderr, "usage: syscall_cost [M]\n");
        return 2;
    }
    long pp = getppid(), bad = 0;
    for (long i = 0; i < 1000; i++) /* warm-up */
        bad += syscall(SYS_getppid) != pp;
    double t0 = now_ns();
    for (long i = 0; i < m; i++)
        bad += syscall(SYS_getppid) != pp;
    double t1 = now_ns();
    int fd = open("/dev/zero", O_RDONLY);
    if (fd < 0) {
        perror("syscall_cost: /dev/zero");
        return 1;
    }
    char c = 1;
    for (long i = 0; i < 1000; i++)
        bad += read(fd, &c, 1) != 1;
    double t2 = now_ns();
    for (long i = 0; i < m; i++)
        bad += read(fd, &c, 1) != 1 || c != 0;
    double t3 = now_ns();
    if (bad) {
        fprintf(stderr, "syscall_cost: %ld wrong results\n", bad);
        return 1;
    }
    printf("getppid_ns=%.1f\n", (t1 - t0) / m);
    printf("read_devzero_ns=%.1f\n", (t3 - t2) / m);
    return 0;
}
