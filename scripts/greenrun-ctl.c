/*
 * greenrun-ctl - the launcher's helper for talking to a running greenrun
 * process (`greenrun dump PID`).
 *
 *   greenrun-ctl dump PID [TIMEOUT_SECONDS]
 *
 * Protocol (runtime/dump.c, runtime/preempt.c): we listen on the abstract
 * unix socket "greenrun-dump.<our pid>", then send the target SIGURG with
 * sigqueue() carrying the value 0x47524450 ("GRDP").  greenrun's SIGURG
 * handler tells that apart from its own preemption signal (which has no
 * payload), and its sysmon thread connects to our socket (found by the
 * signal's si_pid) and writes the thread dump there.  SIGURG is already
 * greenrun's, so the program's own signals are never touched; a process
 * not running greenrun ignores SIGURG by default (we check its maps first
 * anyway).
 *
 * Exit status: 0 dump printed; 1 no such process, not a greenrun process,
 * or no answer within the timeout (default 10 s); 2 usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define DUMP_MAGIC 0x47524450

static int usage(void)
{
	fprintf(stderr, "usage: greenrun dump PID [TIMEOUT_SECONDS]\n");
	return 2;
}

static int runs_greenrun(pid_t pid)
{
	char path[64], line[4096];
	snprintf(path, sizeof path, "/proc/%d/maps", (int)pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return -1;
	int found = 0;
	while (!found && fgets(line, sizeof line, f))
		found = strstr(line, "/libgreenrun.so") != NULL;
	fclose(f);
	return found;
}

static int dump(pid_t pid, int timeout_s)
{
	int g = runs_greenrun(pid);
	if (g < 0) {
		fprintf(stderr, "greenrun: dump: no process %d (or no access "
				"to /proc/%d/maps)\n", (int)pid, (int)pid);
		return 1;
	}
	if (!g) {
		fprintf(stderr, "greenrun: dump: process %d does not run "
				"greenrun (libgreenrun.so is not loaded)\n", (int)pid);
		return 1;
	}
	int ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (ls < 0) {
		perror("greenrun: dump: socket");
		return 1;
	}
	struct sockaddr_un sa;
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	int k = snprintf(sa.sun_path + 1, sizeof sa.sun_path - 1,
			 "greenrun-dump.%d", (int)getpid());
	socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + k);
	if (bind(ls, (struct sockaddr *)&sa, len) != 0 || listen(ls, 1) != 0) {
		perror("greenrun: dump: bind");
		return 1;
	}
	union sigval v = {.sival_int = DUMP_MAGIC};
	if (sigqueue(pid, SIGURG, v) != 0) {
		fprintf(stderr, "greenrun: dump: cannot signal %d: %s\n",
			(int)pid, strerror(errno));
		return 1;
	}
	struct pollfd p = {ls, POLLIN, 0};
	int r;
	while ((r = poll(&p, 1, timeout_s * 1000)) < 0 && errno == EINTR)
		;
	if (r <= 0) {
		fprintf(stderr, "greenrun: dump: no answer from %d within %d s "
				"(has it created a thread yet? is SIGURG blocked or "
				"handled by the program?)\n", (int)pid, timeout_s);
		return 1;
	}
	int c = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
	if (c < 0) {
		perror("greenrun: dump: accept");
		return 1;
	}
	char buf[65536];
	ssize_t n;
	while ((n = read(c, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
		if (n > 0 && fwrite(buf, 1, (size_t)n, stdout) != (size_t)n)
			return 1;
	return fflush(stdout) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc < 3 || argc > 4 || strcmp(argv[1], "dump") != 0)
		return usage();
	char *end;
	long pid = strtol(argv[2], &end, 10);
	if (*end || pid <= 0 || pid > 0x7fffffff)
		return usage();
	long t = 10;
	if (argc == 4) {
		t = strtol(argv[3], &end, 10);
		if (*end || t <= 0 || t > 3600)
			return usage();
	}
	return dump((pid_t)pid, (int)t);
}
