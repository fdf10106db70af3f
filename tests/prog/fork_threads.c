// fork_threads: fork() from a process with 50 live threads; the child
// (which has only the forking thread, as POSIX says) starts 20 threads of
// its own that each do blocking pipe I/O, joins them, and reports through
// a pipe; the parent's threads are unaffected and all join with their
// values.
//
// Why: under green threads the child inherits the parent's scheduler state
// (queues of threads that no longer exist, other OS threads that do not
// exist, and the netpoller's epoll instance, which is shared with the
// parent).  Without rebuilding the runtime in the child, its threads
// would hang or steal the parent's I/O readiness.
// greenrun-test: env=GREENRUN_PROCS=1
// greenrun-test: env=GREENRUN_PROCS=2
// greenrun-test: timeout=60
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void *sleeper(void *a)
{
	struct timespec ts = {0, 200 * 1000000};
	nanosleep(&ts, NULL);
	return a;
}

/* A round trip through a fresh pipe: 0 when the bytes came back. */
static void *child_thread(void *a)
{
	int p[2];
	char b[3] = {0};
	if (pipe(p) != 0 || write(p[1], "ok", 2) != 2 || read(p[0], b, 2) != 2)
		return (void *)1;
	close(p[0]);
	close(p[1]);
	return strcmp(b, "ok") ? (void *)1 : NULL;
}

int main(void)
{
	pthread_t t[50];
	for (intptr_t i = 0; i < 50; i++)
		if (pthread_create(&t[i], NULL, sleeper, (void *)i) != 0) {
			fprintf(stderr, "FAIL fork_threads: pthread_create %ld\n", (long)i);
			return 1;
		}
	int pp[2];
	if (pipe(pp) != 0)
		return 1;
	pid_t pid = fork();
	if (pid < 0) {
		perror("fork");
		return 1;
	}
	if (pid == 0) {
		pthread_t c[20];
		long bad = 0;
		for (int i = 0; i < 20; i++)
			if (pthread_create(&c[i], NULL, child_thread, NULL) != 0)
				_exit(2);
		for (int i = 0; i < 20; i++) {
			void *r;
			pthread_join(c[i], &r);
			bad += (long)(intptr_t)r;
		}
		char verdict = bad ? 'B' : 'G';
		if (write(pp[1], &verdict, 1) != 1)
			_exit(3);
		_exit(bad ? 1 : 7);
	}
	char x = 0;
	if (read(pp[0], &x, 1) != 1) {
		fprintf(stderr, "FAIL fork_threads: no verdict from the child\n");
		return 1;
	}
	int st;
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st)) {
		fprintf(stderr, "FAIL fork_threads: child did not exit normally\n");
		return 1;
	}
	long sum = 0;
	for (int i = 0; i < 50; i++) {
		void *r;
		pthread_join(t[i], &r);
		sum += (long)(intptr_t)r;
	}
	if (x != 'G' || WEXITSTATUS(st) != 7 || sum != 1225) {
		fprintf(stderr, "FAIL fork_threads: child verdict %c exit %d, "
			"parent sum %ld; expected G 7 1225\n", x, WEXITSTATUS(st), sum);
		return 1;
	}
	printf("fork_threads: OK\n");
	return 0;
}
