// sync_cond_destroy_reuse: destroying a condvar right after a broadcast and
// zeroing its memory must not strand a waiter that was woken but had not
// reached its futex wait yet (Open POSIX pthread_cond_destroy/2-1).
//
// Why: a waiter reads the sequence word, releases the mutex, then waits
// while the word still holds what it read.  The broadcaster bumped it, but
// then destroyed the condvar and zeroed it, putting back the value the
// waiter had read: the waiter slept for good (process-shared condvar
// across fork, one P: 1 run in 3).  Destroy now waits for the waiters to
// leave, as glibc's does.  300 rounds: 4 forked children each lock the
// mutex, count themselves, wait for the predicate; the parent waits until
// all 4 are counted, sets the predicate, broadcasts, unlocks, destroys,
// zeroes the condvar, re-initialises it for the next round and reaps the
// children.  A hang shows as the runner's timeout.  Honest limit: on the
// old code the Open POSIX test hung 4 runs in 12 with one P, while this
// smaller version of its pattern seldom does (the window is narrow); it
// guards the destroy/reuse contract rather than reproducing the race.
// greenrun-test: env=GREENRUN_PROCS=1
// greenrun-test: env=GREENRUN_PROCS=2
// greenrun-test: timeout=120
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define NCH 4
#define ROUNDS 300

struct td {
	pthread_mutex_t m;
	pthread_cond_t c;
	int count, predicate;
};

int main(void)
{
	struct td *t = mmap(NULL, sizeof *t, PROT_READ | PROT_WRITE,
			    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (t == MAP_FAILED)
		return 1;
	pthread_mutexattr_t ma;
	pthread_condattr_t ca;
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
	pthread_condattr_init(&ca);
	pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED);
	pthread_mutex_init(&t->m, &ma);
	for (int r = 0; r < ROUNDS; r++) {
		pthread_cond_init(&t->c, &ca);
		t->count = 0;
		t->predicate = 0;
		pid_t kids[NCH];
		for (int i = 0; i < NCH; i++) {
			kids[i] = fork();
			if (kids[i] < 0)
				return 1;
			if (kids[i] == 0) {
				pthread_mutex_lock(&t->m);
				t->count++;
				while (!t->predicate)
					if (pthread_cond_wait(&t->c, &t->m))
						_exit(2);
				pthread_mutex_unlock(&t->m);
				_exit(0);
			}
		}
		pthread_mutex_lock(&t->m);
		while (t->count < NCH) {
			pthread_mutex_unlock(&t->m);
			sched_yield();
			pthread_mutex_lock(&t->m);
		}
		t->predicate = 1;
		if (pthread_cond_broadcast(&t->c) != 0)
			return 1;
		pthread_mutex_unlock(&t->m);
		if (pthread_cond_destroy(&t->c) != 0)
			return 1;
		memset(&t->c, 0, sizeof t->c);
		for (int i = 0; i < NCH; i++) {
			int st;
			if (waitpid(kids[i], &st, 0) != kids[i] ||
			    !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
				printf("round %d: child %d failed\n", r, i);
				return 1;
			}
		}
	}
	printf("ok: %d rounds of broadcast, destroy, zero, %d children each\n",
	       ROUNDS, NCH);
	return 0;
}
