// io_popen_reuse: read(fileno(popen(...))) works for every popen, though
// each pipe gets the number the previous pclose() freed.
//
// Why (found by a fresh-eyes review): popen's pipe and pclose's close
// happen inside the C library, where greenrun does not see them.  The
// first read parked in the netpoller and registered the fd; pclose closed
// it (the kernel dropped the registration); the second popen's pipe got
// the same number, greenrun took it for the old, registered file, and
// the read of it waited for good.  Each shell sleeps first, so each read
// parks.  Also fclose() of an fdopen'ed stream over a pipe, then a new
// pipe on the same number.  The last popen runs sed, whose libselinux
// calls fclose() before greenrun's constructor has run in it.  Then the
// same with fopen() of a FIFO (whose open inside the C library also
// blocked the only P until the writer, which never ran, opened it), and
// with a pipe closed and made again through syscall().
// greenrun-test: env=GREENRUN_PROCS=2
// greenrun-test: env=GREENRUN_PROCS=1
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
	alarm(30); /* the bug hangs: die of SIGALRM instead */
	int first = -1;
	for (int i = 0; i < 3; i++) {
		/* the last through sed, which links libselinux: its
		 * constructor calls fclose before greenrun's constructor ran
		 * in that child (it crashed on greenrun's fclose) */
		FILE *f = popen(i < 2 ? "sleep 0.05; echo hello"
				      : "sleep 0.05; echo hello | sed -n 1p",
				"r");
		if (!f) {
			perror("popen");
			return 1;
		}
		int fd = fileno(f);
		if (i == 0)
			first = fd;
		char b[64];
		ssize_t r = read(fd, b, sizeof b);
		if (r != 6 || memcmp(b, "hello\n", 6) != 0) {
			fprintf(stderr, "FAIL io_popen_reuse: round %d: read %zd\n",
				i, r);
			return 1;
		}
		if (pclose(f) != 0) {
			fprintf(stderr, "FAIL io_popen_reuse: pclose status\n");
			return 1;
		}
		printf("io_popen_reuse: round %d on fd %d (first %d): hello\n", i,
		       fd, first);
	}
	for (int i = 0; i < 2; i++) {
		int p[2];
		if (pipe(p) != 0)
			return 1;
		FILE *f = fdopen(p[0], "r");
		pid_t pid = fork();
		if (pid == 0) {
			usleep(50000); /* not synchronisation: only makes the read park */
			_exit(write(p[1], "x", 1) == 1 ? 0 : 1);
		}
		close(p[1]);
		char c;
		if (!f || read(p[0], &c, 1) != 1 || c != 'x') {
			fprintf(stderr, "FAIL io_popen_reuse: fdopen round %d\n", i);
			return 1;
		}
		fclose(f);
		waitpid(pid, NULL, 0);
		printf("io_popen_reuse: fdopen round %d: x\n", i);
	}
	char path[64];
	snprintf(path, sizeof path, "/tmp/io_popen_reuse.%d.fifo", (int)getpid());
	unlink(path);
	if (mkfifo(path, 0600) != 0)
		return 1;
	for (int i = 0; i < 2; i++) {
		pid_t pid = fork();
		if (pid == 0) {
			int w = open(path, O_WRONLY);
			usleep(50000); /* not synchronisation: the read parks */
			_exit(w >= 0 && write(w, "hi", 2) == 2 ? 0 : 1);
		}
		FILE *f = fopen(path, "r"); /* waits for the writer's open */
		char b[4];
		if (!f || read(fileno(f), b, sizeof b) != 2) {
			fprintf(stderr, "FAIL io_popen_reuse: fifo round %d\n", i);
			return 1;
		}
		fclose(f);
		waitpid(pid, NULL, 0);
		printf("io_popen_reuse: fopen(fifo) round %d: hi\n", i);
	}
	unlink(path);
	int p[2];
	if (pipe(p) != 0)
		return 1;
	for (int i = 0; i < 2; i++) {
		pid_t pid = fork();
		if (pid == 0) {
			usleep(50000); /* not synchronisation: the read parks */
			_exit(write(p[1], "z", 1) == 1 ? 0 : 1);
		}
		char c;
		if (read(p[0], &c, 1) != 1 || c != 'z') {
			fprintf(stderr, "FAIL io_popen_reuse: raw pipe round %d\n", i);
			return 1;
		}
		waitpid(pid, NULL, 0);
		syscall(SYS_close, p[0]);
		syscall(SYS_close, p[1]);
		if (syscall(SYS_pipe2, p, 0) != 0)
			return 1;
		printf("io_popen_reuse: syscall(SYS_pipe2) round %d: z\n", i);
	}
	return 0;
}
