/* 10,000 threads, each blocked in read() on a socket of its own (an
 * AF_UNIX datagram socket bound to an abstract address: one fd per thread
 * keeps the whole test under RLIMIT_NOFILE 20,000).  Once all are
 * blocked, the process's OS thread count is printed and checked: natively
 * one per thread (N + 1); under a green-thread runtime with
 * GREENRUN_PROCS=1 a handful (at most 1 + 4 here).  Then main sends each
 * socket its own index and every thread must read exactly that. */
// greenrun-test: env=GREENRUN_PROCS=1
// greenrun-test: timeout=300
#include <errno.h>
#include <stddef.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define N 10000
static int fds[N];
static atomic_int ready, good;

static socklen_t addr_of(int i, struct sockaddr_un *a)
{
	memset(a, 0, sizeof *a);
	a->sun_family = AF_UNIX;
	int n = snprintf(a->sun_path + 1, sizeof a->sun_path - 1,
			 "greenrun-10k-%d-%d", (int)getpid(), i);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n);
}

static void *reader(void *arg)
{
	int i = (int)(long)arg, v = -1;
	atomic_fetch_add(&ready, 1);
	if (read(fds[i], &v, sizeof v) == sizeof v && v == i)
		atomic_fetch_add(&good, 1);
	return NULL;
}

static int os_threads(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	int n = -1;
	while (f && fgets(line, sizeof line, f))
		if (sscanf(line, "Threads: %d", &n) == 1)
			break;
	if (f)
		fclose(f);
	return n;
}

int main(void)
{
	static pthread_t t[N];
	pthread_attr_t at;
	pthread_attr_init(&at);
	pthread_attr_setstacksize(&at, 64 * 1024);
	for (int i = 0; i < N; i++) {
		struct sockaddr_un a;
		socklen_t len = addr_of(i, &a);
		fds[i] = socket(AF_UNIX, SOCK_DGRAM, 0);
		if (fds[i] < 0 || bind(fds[i], (void *)&a, len) != 0) {
			perror("socket/bind");
			return 1;
		}
		if (pthread_create(&t[i], &at, reader, (void *)(long)i) != 0) {
			fprintf(stderr, "pthread_create %d failed\n", i);
			return 1;
		}
	}
	while (atomic_load(&ready) < N)
		usleep(10000);
	usleep(200000); /* let the last ones reach read() */
	int th = os_threads();
	const char *procs = getenv("GREENRUN_PROCS");
	int p = procs ? atoi(procs) : 1;
	printf("OS threads with %d threads blocked in read: %d\n", N, th);
	if (th != N + 1 && th > p + 4) {
		fprintf(stderr, "expected %d (native) or at most %d threads\n",
			N + 1, p + 4);
		return 1;
	}
	int s = socket(AF_UNIX, SOCK_DGRAM, 0);
	for (int i = 0; i < N; i++) {
		struct sockaddr_un a;
		socklen_t len = addr_of(i, &a);
		if (sendto(s, &i, sizeof i, 0, (void *)&a, len) != sizeof i) {
			perror("sendto");
			return 1;
		}
	}
	for (int i = 0; i < N; i++)
		pthread_join(t[i], NULL);
	if (atomic_load(&good) != N) {
		fprintf(stderr, "%d of %d readers got their value\n",
			atomic_load(&good), N);
		return 1;
	}
	printf("net_blocked_10k: ok\n");
	return 0;
}
