// io_bad_args: bad pointers and counts given to socket calls fail with
// the kernel's error, as natively, instead of crashing greenrun.
//
// Why (found by a fresh-eyes review): greenrun read the caller's iovec
// (readv on TCP) and msghdr (sendmsg/sendmmsg, looking for SCM_RIGHTS)
// before the system call had checked them, and died of SIGSEGV where the
// C library returns EFAULT; and readv/writev of a socket with a count
// outside [0, IOV_MAX] said EMSGSIZE (recvmsg's error) instead of EINVAL.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

static int fails;

static void expect(const char *what, long r, int want)
{
	int e = errno;
	if (r != -1 || e != want) {
		fprintf(stderr, "FAIL io_bad_args: %s: %ld (%s), want -1 %s\n",
			what, r, strerror(e), strerror(want));
		fails++;
	}
}

int main(void)
{
	int l = socket(AF_INET, SOCK_STREAM, 0), s[2];
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof a;
	if (bind(l, (struct sockaddr *)&a, sizeof a) || listen(l, 1) ||
	    getsockname(l, (struct sockaddr *)&a, &len))
		return 2;
	s[0] = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(s[0], (struct sockaddr *)&a, sizeof a))
		return 2;
	s[1] = accept(l, NULL, NULL);
	if (write(s[0], "x", 1) != 1)
		return 2;

	expect("readv(tcp, NULL, 1)", readv(s[1], NULL, 1), EFAULT);
	expect("sendmsg(tcp, (msghdr *)1)",
	       sendmsg(s[0], (struct msghdr *)1, 0), EFAULT);
	/* a control buffer that ends in an unmapped page */
	char *pg = mmap(NULL, 8192, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(pg + 4096, 4096);
	char c = 'y';
	struct iovec v = {&c, 1};
	struct msghdr m = {.msg_iov = &v, .msg_iovlen = 1,
			   .msg_control = pg + 4096 - 8, .msg_controllen = 64};
	memset(pg + 4096 - 8, 0, 8);
	expect("sendmsg with a control buffer past a mapping",
	       sendmsg(s[0], &m, 0), EFAULT);
	expect("sendmmsg(tcp, (mmsghdr *)1, 2)",
	       sendmmsg(s[0], (struct mmsghdr *)1, 2, 0), EFAULT);
	char b[4];
	struct iovec iov = {b, sizeof b};
	expect("readv(tcp, iov, -1)", readv(s[1], &iov, -1), EINVAL);
	expect("readv(tcp, iov, 1025)", readv(s[1], &iov, 1025), EINVAL);
	expect("writev(tcp, iov, -1)", writev(s[0], &iov, -1), EINVAL);
	expect("writev(tcp, iov, 1025)", writev(s[0], &iov, 1025), EINVAL);
	if (read(s[1], b, sizeof b) != 1 || b[0] != 'x') {
		fprintf(stderr, "FAIL io_bad_args: the socket no longer works\n");
		fails++;
	}
	if (!fails)
		printf("io_bad_args: 8 bad calls failed as natively\n");
	return fails != 0;
}
