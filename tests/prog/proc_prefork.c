/* Processes under greenrun (issue #6, acceptance 1 and 5):
 *  - a pre-fork server: the parent, with 100 threads parked on a
 *    condition variable, forks 4 children; each starts 100 threads that
 *    accept on the inherited listening socket and answer with their pid;
 *    the parent makes 400 connections, checks every answer names one of
 *    its children, and every child exits 0 after joining its threads;
 *  - a program exec'd by a child sees only fds 0-2 (+ its own): none of
 *    greenrun's fds leak (ls /proc/self/fd through popen);
 *  - system("true") from 100 threads at once: all return status 0;
 *  - popen reads a child's output exactly;
 *  - a child exec'd with posix_spawnp from a thread that blocks SIGUSR1
 *    starts with SIGUSR1 blocked (SigBlk in /proc/self/status). */
// greenrun-test: env=GREENRUN_PROCS=1
// greenrun-test: env=GREENRUN_PROCS=2
// greenrun-test: timeout=120
#define TEST_NAME "proc_prefork"
#include "sync_util.h"

#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#define NCHILD 4
#define PER 100

static int lsock;
static struct sockaddr_in addr;
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

static void *serve_one(void *a)
{
	int c = accept(lsock, NULL, NULL);
	if (c < 0) {
		fprintf(stderr, "accept: %s\n", strerror(errno));
		return (void *)1; /* the regression: EAGAIN in a fork child */
	}
	char req[8];
	if (read(c, req, 1) != 1)
		return (void *)2;
	char out[32];
	int n = snprintf(out, sizeof out, "%d\n", (int)getpid());
	if (write(c, out, (size_t)n) != n)
		return (void *)3;
	close(c);
	return NULL;
}

static int child(void)
{
	pthread_t t[PER];
	for (int i = 0; i < PER; i++)
		if (pthread_create(&t[i], NULL, serve_one, NULL))
			return 10;
	int bad = 0;
	for (int i = 0; i < PER; i++) {
		void *r;
		pthread_join(t[i], &r);
		bad += r != NULL;
	}
	return bad ? 11 : 0;
}

static pid_t kids[NCHILD];
static atomic_int answers[NCHILD];

static void *client(void *a)
{
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (connect(s, (struct sockaddr *)&addr, sizeof addr) != 0)
		die("connect: %s", strerror(errno));
	if (write(s, "?", 1) != 1)
		die("write");
	char buf[32] = {0};
	ssize_t n = 0, r;
	while ((r = read(s, buf + n, sizeof buf - 1 - (size_t)n)) > 0)
		n += r;
	close(s);
	int pid = atoi(buf);
	for (int i = 0; i < NCHILD; i++)
		if (kids[i] == pid) {
			atomic_fetch_add(&answers[i], 1);
			return NULL;
		}
	die("answer \"%s\" names no child", buf);
}

static void *sys_true(void *a)
{
	int st = system("true");
	return (void *)(intptr_t)(st == 0 ? 0 : 1);
}

int main(void)
{
	pthread_t idl[100];
	for (int i = 0; i < 100; i++)
		EXPECT_RC(pthread_create(&idl[i], NULL, idle, NULL), 0);

	lsock = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t al = sizeof addr;
	if (bind(lsock, (struct sockaddr *)&addr, sizeof addr) ||
	    listen(lsock, 512) ||
	    getsockname(lsock, (struct sockaddr *)&addr, &al))
		die("listen");
	for (int i = 0; i < NCHILD; i++) {
		kids[i] = fork();
		if (kids[i] < 0)
			die("fork");
		if (kids[i] == 0)
			_exit(child());
	}
	pthread_t cl[NCHILD * PER];
	for (int i = 0; i < NCHILD * PER; i++)
		EXPECT_RC(pthread_create(&cl[i], NULL, client, NULL), 0);
	for (int i = 0; i < NCHILD * PER; i++)
		EXPECT_RC(pthread_join(cl[i], NULL), 0);
	int total = 0;
	for (int i = 0; i < NCHILD; i++) {
		total += atomic_load(&answers[i]);
		int st;
		if (waitpid(kids[i], &st, 0) != kids[i] || !WIFEXITED(st) ||
		    WEXITSTATUS(st) != 0)
			die("child %d: status %#x", i, st);
	}
	if (total != NCHILD * PER)
		die("answers %d", total);
	close(lsock);

	/* no fd of ours in an exec'd program: it has exactly the fds this
	 * process holds without FD_CLOEXEC (0-2, and whatever the test
	 * runner passed down), plus the one ls opens itself */
	/* (ls itself must not run under greenrun, whose own fds it would list) */
	FILE *f = popen("env -u LD_PRELOAD ls /proc/self/fd", "r");
	char out[4096] = {0};
	size_t n = fread(out, 1, sizeof out - 1, f);
	out[n] = 0;
	if (pclose(f) != 0)
		die("popen ls");
	int foreign = 0;
	char list[4096];
	strcpy(list, out);
	for (char *tok = strtok(out, "\n"); tok; tok = strtok(NULL, "\n")) {
		int fd = atoi(tok);
		int fl = fcntl(fd, F_GETFD);
		if (fl < 0 || (fl & FD_CLOEXEC))
			foreign++;
	}
	if (foreign != 1)
		die("an exec'd ls has %d fds this process does not pass on "
		    "(want 1: its own): %s", foreign, list);
	f = popen("echo hello; echo world", "r");
	n = fread(out, 1, sizeof out - 1, f);
	out[n] = 0;
	if (pclose(f) != 0 || strcmp(out, "hello\nworld\n") != 0)
		die("popen output \"%s\"", out);

	pthread_t st[100];
	for (int i = 0; i < 100; i++)
		EXPECT_RC(pthread_create(&st[i], NULL, sys_true, NULL), 0);
	for (int i = 0; i < 100; i++) {
		void *r;
		EXPECT_RC(pthread_join(st[i], &r), 0);
		if (r)
			die("system(\"true\") failed in thread %d", i);
	}

	/* the spawned program inherits this thread's mask */
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGUSR1);
	EXPECT_RC(pthread_sigmask(SIG_BLOCK, &s, NULL), 0);
	int p[2];
	if (pipe(p))
		die("pipe");
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, p[1], 1);
	posix_spawn_file_actions_addclose(&fa, p[0]);
	/* env (under greenrun, if preloaded) execs grep, which is not */
	char *argv[] = {"env", "-u", "LD_PRELOAD", "grep", "SigBlk",
			"/proc/self/status", NULL};
	pid_t g;
	extern char **environ;
	EXPECT_RC(posix_spawnp(&g, "env", &fa, NULL, argv, environ), 0);
	close(p[1]);
	n = 0;
	ssize_t r;
	while ((r = read(p[0], out + n, sizeof out - 1 - n)) > 0)
		n += (size_t)r;
	out[n] = 0;
	close(p[0]);
	waitpid(g, NULL, 0);
	unsigned long long blk = strtoull(strchr(out, ':') + 1, NULL, 16);
	if (blk != 1ull << (SIGUSR1 - 1))
		die("spawned child's SigBlk %llx, want %llx", blk,
		    1ull << (SIGUSR1 - 1));

	pthread_mutex_lock(&mu);
	quit = 1;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
	for (int i = 0; i < 100; i++)
		EXPECT_RC(pthread_join(idl[i], NULL), 0);
	printf("proc_prefork ok\n");
	return 0;
}
