/*
 * echo_server.c - a plain thread-per-connection pthread echo server, the
 * kind of program greenrun exists for.  It knows nothing of greenrun.
 *
 *   echo_server [PORT]      (default 0: any free port)
 *
 * Listens on 127.0.0.1:PORT, prints "listening on PORT" (flushed), then
 * accepts forever; each connection gets a detached pthread with default
 * attributes that reads with blocking read() and writes everything back
 * with blocking write() until the peer closes.  Stop it with a signal.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

static void *serve(void *arg)
{
	int fd = (int)(long)arg;
	char buf[4096];
	for (;;) {
		ssize_t n = read(fd, buf, sizeof buf);
		if (n <= 0)
			break;
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(fd, buf + off, (size_t)(n - off));
			if (w <= 0)
				goto out;
			off += w;
		}
	}
out:
	close(fd);
	return NULL;
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	int port = argc > 1 ? atoi(argv[1]) : 0;
	int l = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons((uint16_t)port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof a;
	if (bind(l, (struct sockaddr *)&a, sizeof a) != 0 ||
	    listen(l, 4096) != 0 ||
	    getsockname(l, (struct sockaddr *)&a, &len) != 0) {
		perror("echo_server: bind/listen");
		return 1;
	}
	printf("listening on %d\n", ntohs(a.sin_port));
	fflush(stdout);
	pthread_attr_t at;
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	for (;;) {
		int c = accept(l, NULL, NULL);
		if (c < 0) {
			if (errno == EMFILE || errno == ENFILE) {
				perror("echo_server: accept");
				usleep(10000);
			}
			continue;
		}
		setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		pthread_t t;
		int e = pthread_create(&t, &at, serve, (void *)(long)c);
		if (e) {
			fprintf(stderr, "echo_server: pthread_create: %d\n", e);
			close(c);
		}
	}
}
