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
// calls fclose() before greenrun's constructor has run in it.
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
	return 0;
}
