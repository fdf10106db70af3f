/* setuid()/setgid() in a threaded process.  glibc makes every OS thread
 * run the change (SIGSETXID to each) and waits for all of them; under
 * greenrun that signal reaches OS threads running green threads, and
 * sysmon.  Regression: it used to wait forever (sysmon blocked signal 33,
 * and the handler marked the running G's descriptor, not the OS
 * thread's).  Called from the main thread and from another thread, with
 * 100 threads parked meanwhile: every call returns 0, errors land in the
 * caller's errno, and (as root) every OS thread has the new group ids. */
// greenrun-test: env=GREENRUN_PROCS=1
// greenrun-test: env=GREENRUN_PROCS=2
#define TEST_NAME "proc_setuid"
#include "sync_util.h"

#include <dirent.h>
#include <grp.h>
#include <pthread.h>
#include <sched.h>
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
	for (int i = 0; i < 20; i++) {
		if (setgid(getgid()) != 0 || setuid(getuid()) != 0)
			die("setuid/setgid in a thread: %s", strerror(errno));
		sched_yield(); /* run on another OS thread next time */
	}
	/* errors come back in the calling thread's errno */
	errno = 0;
	if (setgroups(1, NULL) != -1 || errno != EFAULT)
		die("setgroups(1, NULL): errno %d, want EFAULT", errno);
	return NULL;
}

/* As root: every OS thread of the process gets the new group ids
 * (/proc/self/task/\*\/status "Gid:"), whichever thread asked. */
static void check_all_tasks(gid_t want)
{
	char path[64], line[256];
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "/proc/self/task/%s/status", e->d_name);
		FILE *f = fopen(path, "r");
		if (!f)
			continue; /* an OS thread that just ended */
		while (fgets(line, sizeof line, f))
			if (!strncmp(line, "Gid:", 4)) {
				unsigned g[4];
				sscanf(line + 4, "%u %u %u %u", &g[0], &g[1], &g[2], &g[3]);
				if (g[0] != want || g[1] != want)
					die("task %s has Gid %u/%u, want %u", e->d_name, g[0], g[1], want);
			}
		fclose(f);
	}
	closedir(d);
}

static void *change_gid(void *a)
{
	if (setresgid((gid_t)(long)a, (gid_t)(long)a, 0) != 0)
		die("setresgid: %s", strerror(errno));
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
	if (geteuid() == 0) {
		/* from another thread, then from main after it has moved */
		EXPECT_RC(pthread_create(&c, NULL, change_gid, (void *)12345L), 0);
		EXPECT_RC(pthread_join(c, NULL), 0);
		check_all_tasks(12345);
		for (int i = 0; i < 10; i++)
			sched_yield();
		change_gid((void *)0L);
		check_all_tasks(0);
	}
	pthread_mutex_lock(&mu);
	quit = 1;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
	for (int i = 0; i < 100; i++)
		EXPECT_RC(pthread_join(t[i], NULL), 0);
	printf("proc_setuid ok\n");
	return 0;
}
