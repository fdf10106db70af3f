/* A program that makes an fd non-blocking gets EAGAIN at once, exactly as
 * natively, through every way of asking: fcntl F_SETFL, ioctl FIONBIO,
 * pipe2(O_NONBLOCK), socket(SOCK_NONBLOCK), accept4(SOCK_NONBLOCK), and a
 * dup of a non-blocking fd.  F_GETFL shows what was asked, and an fd the
 * program left blocking never shows O_NONBLOCK, also after blocking reads
 * in other threads (we must not flip the file's flag underneath). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#define CHECK(c)                                                               \
	do {                                                                   \
		if (!(c)) {                                                    \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, \
				__LINE__, #c);                                 \
			exit(1);                                               \
		}                                                              \
	} while (0)

static void expect_eagain(int fd)
{
	char b[8];
	errno = 0;
	CHECK(read(fd, b, sizeof b) == -1 && errno == EAGAIN);
}

static int nb(int fd) { return (fcntl(fd, F_GETFL) & O_NONBLOCK) != 0; }

static int pr[2];
static void *reader(void *a)
{
	char c;
	CHECK(read(pr[0], &c, 1) == 1 && c == 'x');
	return NULL;
}

int main(void)
{
	int p[2];
	/* fcntl F_SETFL */
	CHECK(pipe(p) == 0);
	CHECK(!nb(p[0]));
	CHECK(fcntl(p[0], F_SETFL, fcntl(p[0], F_GETFL) | O_NONBLOCK) == 0);
	CHECK(nb(p[0]));
	expect_eagain(p[0]);
	/* dup shares the file status flags */
	int d = dup(p[0]);
	CHECK(nb(d));
	expect_eagain(d);
	/* back to blocking: a write from another thread then completes it */
	CHECK(fcntl(p[0], F_SETFL, 0) == 0 && !nb(p[0]) && !nb(d));
	close(d);
	close(p[0]);
	close(p[1]);

	/* pipe2 */
	CHECK(pipe2(p, O_NONBLOCK) == 0 && nb(p[0]) && nb(p[1]));
	expect_eagain(p[0]);
	/* full pipe: write says EAGAIN */
	char big[4096] = {0};
	while (write(p[1], big, sizeof big) > 0)
		;
	CHECK(errno == EAGAIN);
	close(p[0]);
	close(p[1]);

	/* FIONBIO on a socketpair */
	int sv[2];
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	int on = 1;
	CHECK(ioctl(sv[0], FIONBIO, &on) == 0 && nb(sv[0]) && !nb(sv[1]));
	expect_eagain(sv[0]);
	char b[4];
	CHECK(recv(sv[0], b, 4, 0) == -1 && errno == EAGAIN);
	/* MSG_DONTWAIT on a blocking socket */
	CHECK(recv(sv[1], b, 4, MSG_DONTWAIT) == -1 && errno == EAGAIN);
	CHECK(!nb(sv[1]));
	on = 0;
	CHECK(ioctl(sv[0], FIONBIO, &on) == 0 && !nb(sv[0]));
	close(sv[0]);
	close(sv[1]);

	/* SOCK_NONBLOCK listener: accept says EAGAIN; accept4 flags */
	int l = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	CHECK(l >= 0 && nb(l));
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof a;
	CHECK(bind(l, (void *)&a, sizeof a) == 0 && listen(l, 8) == 0);
	CHECK(getsockname(l, (void *)&a, &len) == 0);
	CHECK(accept(l, NULL, NULL) == -1 && errno == EAGAIN);
	int c = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(connect(c, (void *)&a, sizeof a) == 0 && !nb(c));
	int s;
	while ((s = accept4(l, NULL, NULL, SOCK_NONBLOCK)) < 0 && errno == EAGAIN)
		usleep(1000);
	CHECK(s >= 0 && nb(s));
	expect_eagain(s);
	close(s);
	CHECK(fcntl(l, F_SETFL, 0) == 0 && !nb(l));
	close(l);
	close(c);

	/* A blocking pipe stays blocking while another thread blocks on it. */
	CHECK(pipe(pr) == 0);
	pthread_t t;
	CHECK(pthread_create(&t, NULL, reader, NULL) == 0);
	usleep(50000);
	CHECK(!nb(pr[0]) && !nb(pr[1]));
	CHECK(write(pr[1], "x", 1) == 1);
	CHECK(pthread_join(t, NULL) == 0);
	CHECK(!nb(pr[0]) && !nb(0) && !nb(1) && !nb(2));
	printf("io_nonblock: ok\n");
	return 0;
}
