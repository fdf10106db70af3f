// fork_nonmain: a thread other than main forks 200 times; each child
// creates and joins a thread and exits 7.
//
// Why: glibc's fork handler in the child treats the forking thread's TCB
// as the only live thread and moves all other thread stacks into its
// cache as free.  Under greenrun that included the OS thread's own native
// stack (the scheduler's), which the child's next OS thread then reused:
// children died of SIGSEGV in the scheduler (found by a fresh-clone test,
// about 2 runs in 15 of 50 forks).
// greenrun-test: env=GREENRUN_PROCS=1
// greenrun-test: env=GREENRUN_PROCS=2
// greenrun-test: timeout=120
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

static void *nop(void *a) { return a; }

static void *forker(void *a)
{
	long bad = 0;
	for (int k = 0; k < 200; k++) {
		pid_t c = fork();
		if (c == 0) {
			pthread_t t;
			void *r = NULL;
			if (pthread_create(&t, NULL, nop, (void *)7) ||
			    pthread_join(t, &r) || r != (void *)7)
				_exit(3);
			_exit(7);
		}
		int st = 0;
		if (c < 0 || waitpid(c, &st, 0) != c || !WIFEXITED(st) ||
		    WEXITSTATUS(st) != 7)
			bad++;
	}
	return (void *)(intptr_t)bad;
}

int main(void)
{
	pthread_t t;
	void *r;
	pthread_create(&t, NULL, forker, NULL);
	pthread_join(t, &r);
	if (r) {
		fprintf(stderr, "FAIL fork_nonmain: %ld of 200 children did not exit 7\n",
			(long)(intptr_t)r);
		return 1;
	}
	printf("fork_nonmain: OK\n");
	return 0;
}
