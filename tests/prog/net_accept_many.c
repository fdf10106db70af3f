/* 200 threads blocked in accept() on one listening socket; main makes 200
 * connections and sends an id on each.  Every acceptor gets exactly one
 * connection, every id arrives exactly once (one edge-triggered readiness
 * must not strand the other acceptors).  The listener must still look
 * blocking to the program afterwards (F_GETFL), as it was created. */
// greenrun-test: env=GREENRUN_PROCS=1
// greenrun-test: env=GREENRUN_PROCS=2
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#define N 200
static int l;
static int seen[N];
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static void *acceptor(void *a)
{
	int s = accept(l, NULL, NULL);
	if (s < 0) {
		perror("accept");
		exit(1);
	}
	int id = -1;
	if (recv(s, &id, sizeof id, MSG_WAITALL) != sizeof id || id < 0 ||
	    id >= N) {
		fprintf(stderr, "bad id\n");
		exit(1);
	}
	pthread_mutex_lock(&mu);
	seen[id]++;
	pthread_mutex_unlock(&mu);
	close(s);
	return NULL;
}

int main(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof a;
	l = socket(AF_INET, SOCK_STREAM, 0);
	if (bind(l, (void *)&a, sizeof a) || listen(l, N) ||
	    getsockname(l, (void *)&a, &len))
		return 1;
	pthread_t t[N];
	for (int i = 0; i < N; i++)
		pthread_create(&t[i], NULL, acceptor, NULL);
	usleep(100000);
	int c[N];
	for (int i = 0; i < N; i++) {
		c[i] = socket(AF_INET, SOCK_STREAM, 0);
		if (connect(c[i], (void *)&a, sizeof a) != 0 ||
		    send(c[i], &i, sizeof i, 0) != sizeof i) {
			perror("connect/send");
			return 1;
		}
	}
	for (int i = 0; i < N; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < N; i++) {
		if (seen[i] != 1) {
			fprintf(stderr, "id %d seen %d times\n", i, seen[i]);
			return 1;
		}
		close(c[i]);
	}
	if (fcntl(l, F_GETFL) & O_NONBLOCK) {
		fprintf(stderr, "listener shows O_NONBLOCK\n");
		return 1;
	}
	printf("net_accept_many: ok\n");
	return 0;
}
