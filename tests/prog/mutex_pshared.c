// mutex_pshared: process-shared errorcheck and recursive mutexes in
// MAP_SHARED memory, held by the parent, seen from a fork()ed child, plus
// the default priority ceiling of a fresh mutexattr.
//
// Why (Open POSIX suite findings pthread_mutex_trylock/1-2, 2-1, 4-2 and
// pthread_mutexattr_getprioceiling/1-1): a mutex owner recorded as a
// per-process thread id made the child look like the owner (trylock of a
// recursive mutex returned 0, unlock of an errorcheck one succeeded), and
// getprioceiling returned 0 where glibc returns the lowest SCHED_FIFO
// priority.
// greenrun-test: env=GREENRUN_PROCS=1
// greenrun-test: env=GREENRUN_PROCS=2
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static int init(pthread_mutex_t *m, int type)
{
	pthread_mutexattr_t a;
	pthread_mutexattr_init(&a);
	pthread_mutexattr_settype(&a, type);
	pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
	int e = pthread_mutex_init(m, &a);
	pthread_mutexattr_destroy(&a);
	return e;
}

int main(void)
{
	pthread_mutexattr_t fresh;
	int ceil = -1;
	pthread_mutexattr_init(&fresh);
	pthread_mutexattr_getprioceiling(&fresh, &ceil);
	if (ceil != sched_get_priority_min(SCHED_FIFO)) {
		fprintf(stderr, "FAIL mutex_pshared: fresh prioceiling %d, expected %d\n",
			ceil, sched_get_priority_min(SCHED_FIFO));
		return 1;
	}
	pthread_mutex_t *m = mmap(NULL, 2 * sizeof *m, PROT_READ | PROT_WRITE,
				  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED || init(&m[0], PTHREAD_MUTEX_ERRORCHECK) ||
	    init(&m[1], PTHREAD_MUTEX_RECURSIVE))
		return 1;
	if (pthread_mutex_lock(&m[0]) || pthread_mutex_lock(&m[1]))
		return 1;
	pid_t pid = fork();
	if (pid == 0) {
		/* codes: 1 trylock errorcheck, 2 unlock errorcheck, 3 trylock
		 * recursive, 4 unlock recursive */
		if (pthread_mutex_trylock(&m[0]) != EBUSY)
			_exit(1);
		if (pthread_mutex_unlock(&m[0]) != EPERM)
			_exit(2);
		if (pthread_mutex_trylock(&m[1]) != EBUSY)
			_exit(3);
		if (pthread_mutex_unlock(&m[1]) != EPERM)
			_exit(4);
		_exit(0);
	}
	int st;
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st)) {
		fprintf(stderr, "FAIL mutex_pshared: child check %d failed\n",
			WIFEXITED(st) ? WEXITSTATUS(st) : -1);
		return 1;
	}
	if (pthread_mutex_unlock(&m[0]) || pthread_mutex_unlock(&m[1])) {
		fprintf(stderr, "FAIL mutex_pshared: the owner could not unlock\n");
		return 1;
	}
	printf("mutex_pshared: OK\n");
	return 0;
}
