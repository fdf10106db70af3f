// fd_numbers: the program's fds keep their native numbers, and closing or
// overwriting "every other fd" does not break blocking I/O.
//
// Why: greenrun's netpoller has an epoll fd and an eventfd.  They were
// fds 3 and 4, so the first pipe() returned 5, and a daemon's
// close_range(3, ~0U) or a shell's `exec 3>&1` (dup2 onto 3) killed the
// netpoller: blocking reads failed with EINVAL or never returned (found
// by a fresh-clone test with bash: x=$(echo hi) printed nothing).
// greenrun-test: env=GREENRUN_PROCS=1
// greenrun-test: env=GREENRUN_PROCS=2
// greenrun-test: timeout=60
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int pfd[2];

static void *writer(void *a)
{
	struct timespec ts = {0, 20 * 1000000};
	nanosleep(&ts, NULL); /* let the reader block first */
	return (void *)(intptr_t)write(pfd[1], "ping", 4);
}

/* A reader blocks on the pipe until a second thread writes. */
static int round_trip(const char *what)
{
	pthread_t w;
	char buf[8] = {0};
	pthread_create(&w, NULL, writer, NULL);
	ssize_t n = read(pfd[0], buf, sizeof buf);
	void *r;
	pthread_join(w, &r);
	if (n != 4 || memcmp(buf, "ping", 4) || (intptr_t)r != 4) {
		fprintf(stderr, "FAIL fd_numbers: %s: read %zd '%s', write %ld\n",
			what, n, buf, (long)(intptr_t)r);
		return 1;
	}
	return 0;
}

int main(void)
{
	if (pipe(pfd) != 0)
		return 1;
	if (pfd[0] != 3 || pfd[1] != 4) {
		fprintf(stderr, "FAIL fd_numbers: first pipe got %d %d, expected 3 4\n",
			pfd[0], pfd[1]);
		return 1;
	}
	if (round_trip("first pipe"))
		return 1;
	close_range(3, ~0U, 0); /* as a daemon does at start-up */
	if (pipe(pfd) != 0 || round_trip("after close_range(3, ~0U)"))
		return 1;
	if (dup2(1, 3) != 3) /* as a shell's exec 3>&1 */
		return 1;
	if (pipe(pfd) != 0 || round_trip("after dup2(1, 3)"))
		return 1;
	printf("fd_numbers: OK\n");
	return 0;
}
