/* stdin is left blocking for whoever shares it.  The test starts itself
 * as a child (posix_spawn, so the child runs under whatever runs us) with
 * stdin = the read end of a pipe; in the child a thread blocks reading
 * stdin until the parent writes, poll()s stdin, and exits.  Afterwards the
 * parent's own copy of that pipe end (the same open file) must not be
 * O_NONBLOCK, nor may its own fds 0-2. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define CHECK(c)                                                               \
	do {                                                                   \
		if (!(c)) {                                                    \
			fprintf(stderr, "%s:%d: check failed: %s (errno %d)\n", \
				__FILE__, __LINE__, #c, errno);                \
			exit(1);                                               \
		}                                                              \
	} while (0)

static void *rd(void *a)
{
	char b[6];
	CHECK(read(0, b, 5) == 5 && memcmp(b, "hello", 5) == 0);
	struct pollfd p = {0, POLLIN, 0};
	CHECK(poll(&p, 1, 50) == 0);
	return NULL;
}

static int child(void)
{
	pthread_t t;
	CHECK(pthread_create(&t, NULL, rd, NULL) == 0);
	CHECK(pthread_join(t, NULL) == 0);
	return 0;
}

static int nb(int fd) { return (fcntl(fd, F_GETFL) & O_NONBLOCK) != 0; }

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "child") == 0)
		return child();
	int p[2];
	CHECK(pipe(p) == 0);
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, p[0], 0);
	posix_spawn_file_actions_addclose(&fa, p[1]);
	char *args[] = {argv[0], "child", NULL};
	pid_t pid;
	CHECK(posix_spawn(&pid, argv[0], &fa, NULL, args, environ) == 0);
	usleep(100000);
	CHECK(write(p[1], "hello", 5) == 5);
	int st;
	CHECK(waitpid(pid, &st, 0) == pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK(!nb(p[0]) && !nb(p[1]));
	CHECK(!nb(0) && !nb(1) && !nb(2));
	printf("io_stdin_blocking: ok\n");
	return 0;
}
