// io_flag_cache: a change of a socket's O_NONBLOCK or SO_SNDTIMEO is seen
// by the next blocking call, whichever way it was made: through a dup'ed
// fd (F_SETFL, FIONBIO), by a raw syscall(SYS_fcntl), by setsockopt, by a
// child sharing the file description (fork, _Fork, syscall(SYS_fork)), or
// by another process the fd was sent to with SCM_RIGHTS.
//
// Why: greenrun caches, per fd, the program's O_NONBLOCK and "no socket
// timeout", which it used to ask the kernel for (two system calls) after
// every EAGAIN (shim/fdio.h).  A stale "blocking" entry makes a write the
// kernel would cut short (non-blocking, or timed out) wait for good.
//
// Each round: fill the cache (a 4 MiB blocking write to B, drained from A
// by a thread: it is always partial at first, so greenrun asks for the
// flags and parks), change the flag by one route, then write 4 MiB again
// with nothing draining: natively a partial count comes back at once
// (non-blocking) or after 100 ms (SO_SNDTIMEO).  A stale entry hangs
// instead; alarm() then ends the test.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

extern pid_t _Fork(void);

#define BIG (4 << 20)

static char *buf;

static void die(const char *what)
{
	fprintf(stderr, "FAIL io_flag_cache: %s (errno %s)\n", what,
		strerror(errno));
	exit(1);
}

struct drain {
	int fd;
	size_t n;
};

static void *drainer(void *arg)
{
	struct drain *d = arg;
	static char sink[65536];
	size_t got = 0;
	while (got < d->n) {
		ssize_t r = read(d->fd, sink, sizeof sink);
		if (r <= 0)
			die("drain read");
		got += (size_t)r;
	}
	return NULL;
}

/* Read exactly n bytes from a on a thread while main writes n to b,
 * blocking: the write is partial at first, so the flags are asked. */
static void fill(int a, int b)
{
	pthread_t t;
	struct drain d = {a, BIG};
	pthread_create(&t, NULL, drainer, &d);
	ssize_t w = write(b, buf, BIG);
	if (w != BIG)
		die("blocking write of 4 MiB was not whole");
	pthread_join(t, NULL);
}

/* With nothing draining, a write must come back short; then empty a. */
static void expect_short(int a, int b, const char *route)
{
	ssize_t w = write(b, buf, BIG);
	if (w <= 0 || w >= BIG) {
		fprintf(stderr,
			"FAIL io_flag_cache: after %s, write returned %zd "
			"(errno %s), expected a partial count\n",
			route, w, w < 0 ? strerror(errno) : "-");
		exit(1);
	}
	pthread_t t;
	struct drain d = {a, (size_t)w};
	pthread_create(&t, NULL, drainer, &d);
	pthread_join(t, NULL);
	printf("io_flag_cache: %s: partial write as natively\n", route);
}

static void set_blocking(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0)
		die("F_SETFL blocking");
}

static void pair(int sv[2])
{
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		die("socketpair");
}

int main(void)
{
	alarm(60); /* a stale cache hangs: die of SIGALRM instead */
	buf = calloc(1, BIG);
	int sv[2];
	pair(sv);
	int a = sv[0], b = sv[1];

	/* 1. F_SETFL through a dup of b */
	fill(a, b);
	int d = dup(b);
	if (d < 0 || fcntl(d, F_SETFL, fcntl(d, F_GETFL) | O_NONBLOCK) != 0)
		die("dup/F_SETFL");
	expect_short(a, b, "F_SETFL on a dup");
	set_blocking(b);

	/* 2. FIONBIO through the dup */
	fill(a, b);
	int one = 1, zero = 0;
	if (ioctl(d, FIONBIO, &one) != 0)
		die("FIONBIO");
	expect_short(a, b, "FIONBIO on a dup");
	if (ioctl(b, FIONBIO, &zero) != 0)
		die("FIONBIO off");

	/* 3. a raw syscall(SYS_fcntl) */
	fill(a, b);
	if (syscall(SYS_fcntl, b, F_SETFL, O_RDWR | O_NONBLOCK) != 0)
		die("syscall(SYS_fcntl)");
	expect_short(a, b, "syscall(SYS_fcntl)");
	set_blocking(b);

	/* 4. SO_SNDTIMEO set after the cache learned "no timeout" */
	fill(a, b);
	struct timeval tv = {0, 100000};
	if (setsockopt(b, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) != 0)
		die("SO_SNDTIMEO");
	expect_short(a, b, "setsockopt(SO_SNDTIMEO)");
	tv.tv_usec = 0;
	if (setsockopt(b, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) != 0)
		die("SO_SNDTIMEO off");

	/* 5. a forked child sets O_NONBLOCK on the description it shares;
	 * the parent fills its cache after the fork, before the change */
	int go[2];
	if (pipe(go) != 0)
		die("pipe");
	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		char c;
		if (read(go[0], &c, 1) != 1)
			_exit(2);
		_exit(fcntl(b, F_SETFL, O_RDWR | O_NONBLOCK) == 0 ? 0 : 3);
	}
	fill(a, b);
	int st;
	if (write(go[1], "g", 1) != 1 || waitpid(pid, &st, 0) != pid ||
	    !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		die("fork child setting O_NONBLOCK");
	expect_short(a, b, "O_NONBLOCK set by a fork child");
	set_blocking(b);

	/* 5b. the same with _Fork (no atfork handlers) and with a raw
	 * syscall(SYS_fork), each on a new pair (fds alive at a fork stay
	 * marked shared for good) */
	for (int how = 0; how < 2; how++) {
		int fp[2];
		pair(fp);
		fill(fp[0], fp[1]);
		pid = how == 0 ? _Fork() : (pid_t)syscall(SYS_fork);
		if (pid < 0)
			die("_Fork / SYS_fork");
		if (pid == 0) {
			if (read(go[0], &(char){0}, 1) != 1)
				syscall(SYS_exit_group, 2);
			syscall(SYS_exit_group,
				syscall(SYS_fcntl, fp[1], F_SETFL,
					O_RDWR | O_NONBLOCK) == 0 ? 0 : 3);
		}
		fill(fp[0], fp[1]); /* learned again after the fork */
		if (write(go[1], "g", 1) != 1 || waitpid(pid, &st, 0) != pid ||
		    !WIFEXITED(st) || WEXITSTATUS(st) != 0)
			die("_Fork / SYS_fork child setting O_NONBLOCK");
		expect_short(fp[0], fp[1],
			     how == 0 ? "O_NONBLOCK set by a _Fork child"
				      : "O_NONBLOCK set by a SYS_fork child");
		close(fp[0]);
		close(fp[1]);
	}

	/* 6. a socket made after the receiver process exists, sent to it
	 * with SCM_RIGHTS through a dup; the receiver sets O_NONBLOCK */
	int ctl[2];
	pair(ctl);
	pid = fork();
	if (pid < 0)
		die("fork 2");
	if (pid == 0) {
		char c;
		char cbuf[CMSG_SPACE(sizeof(int))];
		struct iovec v = {&c, 1};
		struct msghdr m = {.msg_iov = &v, .msg_iovlen = 1,
				   .msg_control = cbuf,
				   .msg_controllen = sizeof cbuf};
		if (recvmsg(ctl[1], &m, 0) != 1)
			_exit(2);
		struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
		int fd;
		if (!cm || cm->cmsg_type != SCM_RIGHTS)
			_exit(3);
		memcpy(&fd, CMSG_DATA(cm), sizeof fd);
		_exit(fcntl(fd, F_SETFL, O_RDWR | O_NONBLOCK) == 0 ? 0 : 4);
	}
	int sv2[2];
	pair(sv2);
	fill(sv2[0], sv2[1]);
	char c = 'x';
	char cbuf[CMSG_SPACE(sizeof(int))];
	memset(cbuf, 0, sizeof cbuf);
	struct iovec v = {&c, 1};
	struct msghdr m = {.msg_iov = &v, .msg_iovlen = 1,
			   .msg_control = cbuf, .msg_controllen = sizeof cbuf};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	/* a dup goes: the file is shared, whichever number names it */
	int sent = dup(sv2[1]);
	memcpy(CMSG_DATA(cm), &sent, sizeof(int));
	if (sendmsg(ctl[0], &m, 0) != 1 || close(sent) != 0 ||
	    waitpid(pid, &st, 0) != pid ||
	    !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		die("SCM_RIGHTS receiver setting O_NONBLOCK");
	expect_short(sv2[0], sv2[1], "O_NONBLOCK set by an SCM_RIGHTS receiver");
	printf("io_flag_cache: ok\n");
	return 0;
}
