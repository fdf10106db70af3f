/* gettid() under greenrun: a stable id per thread (README: not the OS
 * thread's).  Checks, natively and under greenrun: the main thread's id
 * is the process id; each of 1,000 live threads keeps its id across
 * sleeps and yields (which move it between OS threads) and no two share
 * one; syscall(SYS_gettid) agrees; syscall(SYS_tgkill, pid, tid, sig)
 * from another thread runs the handler on the thread with that id. */
// greenrun-test: env=GREENRUN_PROCS=1
// greenrun-test: env=GREENRUN_PROCS=2
#define TEST_NAME "proc_gettid"
#include "sync_util.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#define N 1000
static pid_t ids[N];
static pthread_barrier_t bar;

static void *body(void *arg)
{
	long i = (long)arg;
	pid_t me = gettid();
	for (int k = 0; k < 5; k++) {
		ms_sleep(1);
		sched_yield();
		if (gettid() != me || syscall(SYS_gettid) != me)
			die("thread %ld: id changed from %d to %d", i, me,
			    gettid());
	}
	ids[i] = me;
	pthread_barrier_wait(&bar); /* all alive at once: ids unique */
	return NULL;
}

static pthread_t victim;
static atomic_int victim_tid, handled_on_victim, handled;
static void on_usr1(int s)
{
	if (pthread_equal(pthread_self(), victim))
		atomic_store(&handled_on_victim, 1);
	atomic_store(&handled, 1);
}

static void *victim_body(void *a)
{
	atomic_store(&victim_tid, gettid());
	while (!atomic_load(&handled))
		ms_sleep(1);
	return NULL;
}

static int cmp(const void *a, const void *b)
{
	return *(const pid_t *)a - *(const pid_t *)b;
}

int main(void)
{
	if (gettid() != getpid())
		die("main thread id %d, pid %d", gettid(), getpid());
	pthread_barrier_init(&bar, NULL, N);
	static pthread_t t[N];
	for (long i = 0; i < N; i++)
		EXPECT_RC(pthread_create(&t[i], NULL, body, (void *)i), 0);
	for (int i = 0; i < N; i++)
		EXPECT_RC(pthread_join(t[i], NULL), 0);
	qsort(ids, N, sizeof ids[0], cmp);
	for (int i = 0; i < N; i++) {
		if (ids[i] == getpid() || (i && ids[i] == ids[i - 1]))
			die("thread ids not unique: %d", ids[i]);
	}

	signal(SIGUSR1, on_usr1);
	EXPECT_RC(pthread_create(&victim, NULL, victim_body, NULL), 0);
	while (!atomic_load(&victim_tid))
		ms_sleep(1);
	if (syscall(SYS_tgkill, getpid(), atomic_load(&victim_tid), SIGUSR1) != 0)
		die("tgkill: %s", strerror(errno));
	EXPECT_RC(pthread_join(victim, NULL), 0);
	if (!atomic_load(&handled_on_victim))
		die("handler did not run on the thread with that id");
	printf("proc_gettid ok\n");
	return 0;
}
