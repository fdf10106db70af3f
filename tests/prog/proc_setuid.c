/* setuid()/setgid() in a threaded process.  glibc makes every OS thread
 * run the change (SIGSETXID to each) and waits for all of them; under
 * greenrun that signal reaches OS threads running green threads, and
 * sysmon.  Regression: it used to wait forever (sysmon blocked signal 33,
 * and the handler marked the running G's descriptor, not the OS
 * thread's).  Called from the main thread and from another thread, with
 * 100 threads parked meanwhile: every call returns 0. */
// greenrun-test: env=GREENRUN_PROCS=1
// greenrun-test: env=GREENRUN_PROCS=2
#define TEST_NAME "proc_setuid"
#include "sync_util.h"

#include <pthread.h>
#include <unistd.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int quit;

static void *idle(void *a)
{
	pthread_mutex_lock(&mu);
	while (!quit)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	return NULL;
}

static void *change(void *a)
{
	for (int i = 0; i < 20; i++)
		if (setgid(getgid()) != 0 || setuid(getuid()) != 0)
			die("setuid/setgid in a thread: %s", strerror(errno));
	return NULL;
}

int main(void)
{
	pthread_t t[100], c;
	for (int i = 0; i < 100; i++)
		EXPECT_RC(pthread_create(&t[i], NULL, idle, NULL), 0);
	change(NULL);
	EXPECT_RC(pthread_create(&c, NULL, change, NULL), 0);
	EXPECT_RC(pthread_join(c, NULL), 0);
	pthread_mutex_lock(&mu);
	quit = 1;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
	for (int i = 0; i < 100; i++)
		EXPECT_RC(pthread_join(t[i], NULL), 0);
	printf("proc_setuid ok\n");
	return 0;
}
