// raw_syscall: a library that blocks through syscall(SYS_read, ...) or
// syscall(SYS_wait4, ...) instead of the libc wrappers must not stop the
// other threads, even on one P.
//
// Why: such calls bypass the interposed read()/waitpid(); if the OS thread
// simply blocked holding the only P, the thread that would unblock it
// (the writer below) could never run: a deadlock native threads do not
// have.  greenrun runs every syscall() between entersyscall/exitsyscall,
// so sysmon hands the P to another OS thread.
// greenrun-test: env=GREENRUN_PROCS=1
// greenrun-test: env=GREENRUN_PROCS=2
// greenrun-test: timeout=60
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int p[2];

static void *reader(void *a)
{
	char c = 0;
	long r = syscall(SYS_read, p[0], &c, 1);
	return (void *)(intptr_t)(r == 1 && c == 'z');
}

static void *writer(void *a)
{
	struct timespec ts = {0, 20 * 1000000};
	nanosleep(&ts, NULL);
	return (void *)(intptr_t)syscall(SYS_write, p[1], "z", 1);
}

static void *reaper(void *a)
{
	int st = 0;
	pid_t pid = (pid_t)(intptr_t)a;
	long r = syscall(SYS_wait4, pid, &st, 0, NULL);
	return (void *)(intptr_t)(r == pid && WIFEXITED(st) && WEXITSTATUS(st) == 5);
}

int main(void)
{
	if (pipe(p) != 0)
		return 1;
	pthread_t r, w, k;
	void *rr, *wr, *kr;
	pthread_create(&r, NULL, reader, NULL);
	pthread_create(&w, NULL, writer, NULL);
	pthread_join(r, &rr);
	pthread_join(w, &wr);
	if ((intptr_t)rr != 1 || (intptr_t)wr != 1) {
		fprintf(stderr, "FAIL raw_syscall: read/write results %ld %ld, expected 1 1\n",
			(long)(intptr_t)rr, (long)(intptr_t)wr);
		return 1;
	}
	int go[2];
	if (pipe(go) != 0)
		return 1;
	pid_t pid = fork();
	if (pid == 0) {
		char c;
		_exit(read(go[0], &c, 1) == 1 ? 5 : 6);
	}
	pthread_create(&k, NULL, reaper, (void *)(intptr_t)pid);
	struct timespec ts = {0, 20 * 1000000};
	nanosleep(&ts, NULL);            /* the reaper is blocked in wait4 */
	if (write(go[1], "g", 1) != 1)   /* ... and main still runs */
		return 1;
	pthread_join(k, &kr);
	if ((intptr_t)kr != 1) {
		fprintf(stderr, "FAIL raw_syscall: wait4 did not reap the child with status 5\n");
		return 1;
	}
	printf("raw_syscall: OK\n");
	return 0;
}
