// sync_pshared_errorcheck: an errorcheck process-shared mutex hammered by a
// parent and a forked child never reports EDEADLK or EPERM to either.
//
// Why: a holder's identity is (thread id, pid), and thread ids repeat
// across processes (both main threads are thread 1).  The holder wrote
// the id before the pid, so between the two stores the other process
// could read its own id beside its own pid left by the previous holder,
// and its lock failed with EDEADLK (Open POSIX pthread_cond_destroy/2-1
// with one P).  Both start together (a spin on a shared flag) and each
// does 1,000,000 lock/unlock pairs, incrementing
// a shared counter under the lock; the counter must come out exact.
// greenrun-test: env=GREENRUN_PROCS=1
// greenrun-test: env=GREENRUN_PROCS=2
// greenrun-test: timeout=120
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define N 1000000

struct shared {
	pthread_mutex_t m;
	long counter;
	int bad_lock, bad_unlock;
	int ready;
};

static void hammer(struct shared *s)
{
	__atomic_add_fetch(&s->ready, 1, __ATOMIC_SEQ_CST);
	while (__atomic_load_n(&s->ready, __ATOMIC_SEQ_CST) < 2)
		;
	for (int i = 0; i < N; i++) {
		int e = pthread_mutex_lock(&s->m);
		if (e) {
			__atomic_store_n(&s->bad_lock, e, __ATOMIC_SEQ_CST);
			return;
		}
		s->counter++;
		e = pthread_mutex_unlock(&s->m);
		if (e) {
			__atomic_store_n(&s->bad_unlock, e, __ATOMIC_SEQ_CST);
			return;
		}
	}
}

int main(void)
{
	struct shared *s = mmap(NULL, sizeof *s, PROT_READ | PROT_WRITE,
				MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (s == MAP_FAILED)
		return 1;
	pthread_mutexattr_t a;
	pthread_mutexattr_init(&a);
	pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK);
	pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
	pthread_mutex_init(&s->m, &a);
	pid_t c = fork();
	if (c < 0)
		return 1;
	if (c == 0) {
		hammer(s);
		_exit(0);
	}
	hammer(s);
	int st;
	if (waitpid(c, &st, 0) != c || !WIFEXITED(st) || WEXITSTATUS(st)) {
		printf("child failed\n");
		return 1;
	}
	if (s->bad_lock || s->bad_unlock || s->counter != 2L * N) {
		printf("lock error %d (%s), unlock error %d, counter %ld of %ld\n",
		       s->bad_lock, strerror(s->bad_lock), s->bad_unlock,
		       s->counter, 2L * N);
		return 1;
	}
	printf("ok: %ld increments, no EDEADLK/EPERM\n", s->counter);
	return 0;
}
