/* The program's own epoll instance and the message calls, built with
 * _FORTIFY_SOURCE (reads with non-constant sizes go through __read_chk and
 * __recv_chk):
 * a thread blocked in epoll_wait wakes when another thread writes;
 * epoll_wait times out with 0 after >= its timeout; recv with MSG_WAITALL
 * gathers a message written in pieces; a blocking recvmmsg waits for all
 * vlen datagrams (no MSG_WAITFORONE), with MSG_WAITFORONE returns what is
 * there; sendmmsg/sendmsg/readv/writev move exact bytes. */
// greenrun-test: cflags=-D_FORTIFY_SOURCE=2
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define CHECK(c)                                                               \
	do {                                                                   \
		if (!(c)) {                                                    \
			fprintf(stderr, "%s:%d: check failed: %s (errno %d)\n", \
				__FILE__, __LINE__, #c, errno);                \
			exit(1);                                               \
		}                                                              \
	} while (0)

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int st[2], dg[2];

static void *pieces(void *a)
{
	for (int i = 0; i < 4; i++) {
		usleep(20000);
		CHECK(write(st[1], "abcd" + i, 1) == 1);
	}
	return NULL;
}

static void *datagrams(void *a)
{
	for (int i = 0; i < 3; i++) {
		usleep(20000);
		CHECK(send(dg[1], &i, sizeof i, 0) == sizeof i);
	}
	return NULL;
}

int main(void)
{
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, st) == 0);
	CHECK(socketpair(AF_UNIX, SOCK_DGRAM, 0, dg) == 0);
	int ep = epoll_create1(0);
	struct epoll_event e = {.events = EPOLLIN, .data.u32 = 42}, out[4];
	CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, st[0], &e) == 0);
	double t0 = now();
	CHECK(epoll_wait(ep, out, 4, 100) == 0);
	CHECK(now() - t0 >= 0.1 && now() - t0 < 1.5);
	pthread_t t;
	CHECK(pthread_create(&t, NULL, pieces, NULL) == 0);
	CHECK(epoll_wait(ep, out, 4, -1) == 1 && out[0].data.u32 == 42);
	char buf[8] = {0};
	CHECK(recv(st[0], buf, 4, MSG_WAITALL) == 4 && memcmp(buf, "abcd", 4) == 0);
	pthread_join(t, NULL);
	struct pollfd p = {st[0], POLLIN, 0};
	CHECK(poll(&p, 1, 10) == 0);

	/* recvmmsg: blocking waits for all 3 */
	int v[3] = {-1, -1, -1};
	struct iovec iov[3];
	struct mmsghdr mm[3];
	memset(mm, 0, sizeof mm);
	for (int i = 0; i < 3; i++) {
		iov[i] = (struct iovec){&v[i], sizeof v[i]};
		mm[i].msg_hdr.msg_iov = &iov[i];
		mm[i].msg_hdr.msg_iovlen = 1;
	}
	CHECK(pthread_create(&t, NULL, datagrams, NULL) == 0);
	CHECK(recvmmsg(dg[0], mm, 3, 0, NULL) == 3);
	CHECK(v[0] == 0 && v[1] == 1 && v[2] == 2);
	pthread_join(t, NULL);
	/* sendmmsg + MSG_WAITFORONE */
	int w[2] = {7, 8};
	struct iovec wi[2] = {{&w[0], sizeof w[0]}, {&w[1], sizeof w[1]}};
	struct mmsghdr wm[2];
	memset(wm, 0, sizeof wm);
	for (int i = 0; i < 2; i++) {
		wm[i].msg_hdr.msg_iov = &wi[i];
		wm[i].msg_hdr.msg_iovlen = 1;
	}
	CHECK(sendmmsg(dg[1], wm, 2, 0) == 2);
	v[0] = v[1] = v[2] = -1;
	CHECK(recvmmsg(dg[0], mm, 3, MSG_WAITFORONE, NULL) == 2);
	CHECK(v[0] == 7 && v[1] == 8 && v[2] == -1);

	/* writev / readv / sendmsg exact bytes */
	struct iovec two[2] = {{"hello ", 6}, {"world", 5}};
	CHECK(writev(st[1], two, 2) == 11);
	char a[6], b[5];
	struct iovec rv[2] = {{a, 6}, {b, 5}};
	CHECK(readv(st[0], rv, 2) == 11 && !memcmp(a, "hello ", 6) && !memcmp(b, "world", 5));
	struct msghdr m = {.msg_iov = two, .msg_iovlen = 2};
	CHECK(sendmsg(st[1], &m, 0) == 11);
	char c[11];
	volatile size_t n = sizeof c; /* not a constant: __read_chk */
	CHECK(read(st[0], c, n) == 11 && !memcmp(c, "hello world", 11));
	CHECK(write(st[1], "xy", 2) == 2);
	CHECK(recv(st[0], c, n, 0) == 2 && !memcmp(c, "xy", 2)); /* __recv_chk */
	printf("net_epoll_msg: ok\n");
	return 0;
}
