// net_tcp_drained: blocking reads of a TCP socket get every byte, once, in
// order, when greenrun skips the read attempt it knows would say EAGAIN.
//
// Why: after a short read of a TCP socket greenrun marks the fd "drained"
// and parks the next blocking read at once, without the read() that would
// return EAGAIN, until the netpoller reports new data (rt_netpoll.h).  A
// short read that leaves data queued would then wait for good.  TCP does
// that at an urgent mark: a read stops before out-of-band data.
//
// 1. Urgent data: "a" is read; then, with no thread waiting in the
//    netpoller (the reader spins on a flag, the writer waits on a join),
//    "bc", an out-of-band "X" and "def" are sent, so the netpoller sees one
//    edge for all of it.  The reader must get "bc" (it stops at the mark)
//    and then "def"; with the mark's short read taken as "drained" it
//    hangs (alarm), as it did before EPOLLPRI disabled the skip.
// 2. End of stream: the fd is registered (a read that times out), "xyz"
//    and a FIN are sent and collected by the netpoller (a 20 ms poll of
//    another fd lets an idle M poll), then one read takes "xyz" and the
//    FIN (short) and the next must return 0 at once; taking that short
//    read as "drained" hung (alarm).
// 3. 1 MiB sent in random chunks and read with random buffer sizes by one
//    reader: identical.
// 4. Two readers on one socket, 200,000 bytes in 1..4000-byte writes,
//    then close: the readers' counts add up to exactly 200,000 and both
//    see EOF.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <sys/time.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void die(const char *what)
{
	perror(what);
	fprintf(stderr, "FAIL net_tcp_drained: %s\n", what);
	exit(1);
}

/* A connected TCP pair over 127.0.0.1: *c the client end, *s the server's. */
static void tcp_pair(int *c, int *s)
{
	int l = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof a;
	if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof a) != 0 ||
	    listen(l, 4) != 0 || getsockname(l, (struct sockaddr *)&a, &len) != 0)
		die("listen");
	*c = socket(AF_INET, SOCK_STREAM, 0);
	if (*c < 0 || connect(*c, (struct sockaddr *)&a, sizeof a) != 0)
		die("connect");
	*s = accept(l, NULL, NULL);
	if (*s < 0)
		die("accept");
	close(l);
}

/* ---- 1: urgent data ------------------------------------------------------ */
static int uc, us;
static atomic_int sent;

static void *urg_writer(void *arg)
{
	(void)arg;
	if (send(uc, "bc", 2, 0) != 2 || send(uc, "X", 1, MSG_OOB) != 1 ||
	    send(uc, "def", 3, 0) != 3)
		die("urgent sends");
	atomic_store(&sent, 1);
	return NULL;
}

static void urgent(void)
{
	tcp_pair(&uc, &us);
	char buf[64];
	if (write(uc, "a", 1) != 1 || read(us, buf, sizeof buf) != 1 ||
	    buf[0] != 'a')
		die("first byte");
	pthread_t t;
	pthread_create(&t, NULL, urg_writer, NULL);
	while (!atomic_load(&sent))
		; /* spin: nobody parks in the netpoller meanwhile */
	pthread_join(t, NULL);
	char got[8] = {0};
	size_t n = 0;
	while (n < 5) {
		ssize_t r = read(us, got + n, sizeof got - 1 - n);
		if (r <= 0)
			die("read around the urgent mark");
		n += (size_t)r;
	}
	if (strcmp(got, "bcdef") != 0) {
		fprintf(stderr, "FAIL net_tcp_drained: got \"%s\", want bcdef\n",
			got);
		exit(1);
	}
	close(uc);
	close(us);
	printf("net_tcp_drained: urgent mark: bc + def\n");
}

/* ---- 2: end of stream --------------------------------------------------------- */
static void end_of_stream(void)
{
	int c, s, p[2];
	tcp_pair(&c, &s);
	if (pipe(p) != 0)
		die("pipe");
	char buf[64];
	struct timeval tv = {0, 1000};
	if (setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0)
		die("SO_RCVTIMEO");
	if (read(s, buf, sizeof buf) != -1 || errno != EAGAIN)
		die("a read that times out");
	tv.tv_usec = 0;
	if (setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0)
		die("SO_RCVTIMEO off");
	if (write(c, "xyz", 3) != 3 || shutdown(c, SHUT_WR) != 0)
		die("send and shutdown");
	struct pollfd pf = {.fd = p[0], .events = POLLIN};
	if (poll(&pf, 1, 20) != 0)
		die("poll of an empty pipe");
	ssize_t r = read(s, buf, sizeof buf);
	if (r != 3 || memcmp(buf, "xyz", 3) != 0)
		die("read of xyz");
	r = read(s, buf, sizeof buf);
	if (r != 0) {
		fprintf(stderr, "FAIL net_tcp_drained: read after the FIN gave "
			"%zd, want 0\n", r);
		exit(1);
	}
	close(c);
	close(s);
	close(p[0]);
	close(p[1]);
	printf("net_tcp_drained: end of stream: xyz then 0\n");
}

/* ---- 3: random chunks ----------------------------------------------------- */
#define MB (1 << 20)
static int rc, rs;
static unsigned char pattern(size_t i) { return (unsigned char)(i * 7 % 251); }

static void *chunk_writer(void *arg)
{
	unsigned seed = 12345;
	unsigned char *b = arg;
	size_t off = 0;
	while (off < MB) {
		size_t k = 1 + rand_r(&seed) % 9000;
		if (k > MB - off)
			k = MB - off;
		ssize_t w = write(rc, b + off, k);
		if (w <= 0)
			die("chunk write");
		off += (size_t)w;
		if (rand_r(&seed) % 4 == 0)
			sched_yield();
	}
	close(rc);
	return NULL;
}

static void chunks(void)
{
	tcp_pair(&rc, &rs);
	unsigned char *out = malloc(MB), *in = malloc(MB + 1);
	for (size_t i = 0; i < MB; i++)
		out[i] = pattern(i);
	pthread_t t;
	pthread_create(&t, NULL, chunk_writer, out);
	unsigned seed = 777;
	size_t got = 0;
	for (;;) {
		size_t k = 1 + rand_r(&seed) % 12000;
		if (k > MB + 1 - got)
			k = MB + 1 - got;
		ssize_t r = read(rs, in + got, k);
		if (r < 0)
			die("chunk read");
		if (r == 0)
			break;
		got += (size_t)r;
	}
	pthread_join(t, NULL);
	if (got != MB || memcmp(in, out, MB) != 0) {
		fprintf(stderr, "FAIL net_tcp_drained: %zu bytes, content %s\n",
			got, got == MB ? "differs" : "-");
		exit(1);
	}
	close(rs);
	free(out);
	free(in);
	printf("net_tcp_drained: 1 MiB in random chunks identical\n");
}

/* ---- 4: two readers on one socket ------------------------------------------ */
#define TOTAL 200000
static int tc, ts;

static void *two_reader(void *arg)
{
	long *count = arg;
	char buf[3000];
	for (;;) {
		ssize_t r = read(ts, buf, sizeof buf);
		if (r < 0)
			die("two-reader read");
		if (r == 0)
			return NULL;
		*count += r;
	}
}

static void two_readers(void)
{
	tcp_pair(&tc, &ts);
	long c1 = 0, c2 = 0;
	pthread_t a, b;
	pthread_create(&a, NULL, two_reader, &c1);
	pthread_create(&b, NULL, two_reader, &c2);
	static char buf[4000];
	unsigned seed = 99;
	long off = 0;
	while (off < TOTAL) {
		long k = 1 + rand_r(&seed) % 4000;
		if (k > TOTAL - off)
			k = TOTAL - off;
		ssize_t w = write(tc, buf, (size_t)k);
		if (w <= 0)
			die("two-reader write");
		off += w;
	}
	close(tc);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	if (c1 + c2 != TOTAL) {
		fprintf(stderr, "FAIL net_tcp_drained: readers got %ld + %ld, "
			"want %d\n", c1, c2, TOTAL);
		exit(1);
	}
	close(ts);
	printf("net_tcp_drained: two readers: %d bytes\n", TOTAL);
}

int main(void)
{
	alarm(60); /* a read parked on a queue that was not empty hangs */
	urgent();
	end_of_stream();
	chunks();
	two_readers();
	return 0;
}
