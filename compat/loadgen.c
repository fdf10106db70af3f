/*
 * loadgen.c - our epoll load generator for echo servers (one thread).
 *
 *   loadgen PORT CONNS SECONDS [MSGSIZE]     (MSGSIZE default 64)
 *
 * Opens CONNS connections to 127.0.0.1:PORT (at most 256 connects in
 * flight, so a listen backlog never overflows into SYN retransmits), then
 * for SECONDS each connection repeatedly sends one MSGSIZE-byte message
 * (its id, a sequence number and a pattern) and waits for the complete
 * echo, which must match byte for byte.  Prints, one "key: value" a line:
 * connections, connect_seconds, requests, req_per_s (requests completed
 * within SECONDS, per second), p50_us, p99_us and max_us (of all requests,
 * including those still in flight at the end), errors, cpu_pct (the load
 * generator's own CPU time, user + system, during the request phase, as a
 * percentage of one CPU: near 100 means the load generator, not the
 * server, was the bottleneck).  Exit status 0 when every connection was
 * made and no error (mismatch, reset, early EOF) happened, else 1.
 * Loopback only.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct conn {
	int fd;
	int state;        /* 0 connecting, 1 sending, 2 receiving, 3 dead */
	uint32_t seq;
	size_t off;       /* bytes sent or received of the current message */
	int64_t t0;       /* send time, ns */
	char *out, *in;
};

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static size_t msgsize = 64;
static uint32_t *lat;   /* latencies in us */
static size_t nlat, caplat;
static long errors;
static size_t ninwin; /* requests completed before the end of the run */

static void fill(struct conn *c, int id)
{
	memcpy(c->out, &id, 4);
	memcpy(c->out + 4, &c->seq, 4);
	for (size_t i = 8; i < msgsize; i++)
		c->out[i] = (char)('a' + (id + c->seq + i) % 26);
}

static void record(int64_t ns)
{
	if (nlat == caplat) {
		caplat = caplat ? caplat * 2 : 1 << 20;
		lat = realloc(lat, caplat * sizeof *lat);
		if (!lat) {
			fprintf(stderr, "loadgen: out of memory\n");
			exit(1);
		}
	}
	lat[nlat++] = (uint32_t)(ns / 1000);
}

static void kill_conn(int ep, struct conn *c, const char *why)
{
	if (c->state == 3)
		return;
	if (errors < 10)
		fprintf(stderr, "loadgen: connection error: %s\n", why);
	errors++;
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->state = 3;
}

/* Push the current message out; then switch to receiving. */
static void do_send(int ep, struct conn *c)
{
	while (c->off < msgsize) {
		ssize_t n = send(c->fd, c->out + c->off, msgsize - c->off,
				 MSG_NOSIGNAL);
		if (n < 0) {
			if (errno != EAGAIN)
				kill_conn(ep, c, strerror(errno));
			return;
		}
		c->off += (size_t)n;
	}
	c->state = 2;
	c->off = 0;
}

static void start_msg(int ep, struct conn *c, int id)
{
	c->seq++;
	fill(c, id);
	c->state = 1;
	c->off = 0;
	c->t0 = now_ns();
	do_send(ep, c);
}

static void do_recv(int ep, struct conn *c, int id, int running)
{
	while (c->state == 2) {
		ssize_t n = recv(c->fd, c->in + c->off, msgsize - c->off, 0);
		if (n == 0) {
			kill_conn(ep, c, "early EOF");
			return;
		}
		if (n < 0) {
			if (errno != EAGAIN)
				kill_conn(ep, c, strerror(errno));
			return;
		}
		c->off += (size_t)n;
		if (c->off < msgsize)
			continue;
		if (memcmp(c->in, c->out, msgsize) != 0) {
			kill_conn(ep, c, "echo mismatch");
			return;
		}
		record(now_ns() - c->t0);
		if (running)
			ninwin++;
		if (!running) {
			c->state = 4; /* done */
			return;
		}
		start_msg(ep, c, id);
		/* The echo of the new message may already be queued, but its arrival
		 * raised a new edge that epoll reports.  Not reading on to EAGAIN saves a system call per
		 * request, so the load generator stays ahead of the server. */
		return;
	}
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static void handle(int ep, struct conn *cs, int id, uint32_t ev, int running,
		   int *connecting)
{
	struct conn *c = &cs[id];
	if (c->state == 0) {
		int err = 0;
		socklen_t el = sizeof err;
		getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el);
		(*connecting)--;
		if (err) {
			kill_conn(ep, c, strerror(err));
			return;
		}
		c->state = 5; /* connected, idle until the run starts */
		return;
	}
	if (c->state == 1 && (ev & EPOLLOUT))
		do_send(ep, c);
	if (c->state == 2 && (ev & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		do_recv(ep, c, id, running);
}

static int open_conn(int ep, struct conn *c, int id,
		     const struct sockaddr_in *a)
{
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (c->fd < 0)
		return -1;
	int one = 1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	int r = connect(c->fd, (const struct sockaddr *)a, sizeof *a);
	if (r != 0 && errno != EINPROGRESS)
		return -1;
	struct epoll_event e = {.events = EPOLLIN | EPOLLOUT | EPOLLET,
				.data.u32 = (uint32_t)id};
	return epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &e);
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: loadgen PORT CONNS SECONDS [MSGSIZE]\n");
		return 2;
	}
	int port = atoi(argv[1]), nconn = atoi(argv[2]);
	double secs = atof(argv[3]);
	if (argc > 4)
		msgsize = (size_t)atoi(argv[4]);
	if (msgsize < 8)
		msgsize = 8;
	signal(SIGPIPE, SIG_IGN);
	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons((uint16_t)port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	struct conn *cs = calloc((size_t)nconn, sizeof *cs);
	int ep = epoll_create1(0);
	for (int i = 0; i < nconn; i++) {
		cs[i].out = malloc(msgsize);
		cs[i].in = malloc(msgsize);
	}
	struct epoll_event evs[512];

	/* Phase 1: connect, at most 256 in flight. */
	int64_t t0 = now_ns();
	int next = 0, connecting = 0;
	while (next < nconn || connecting > 0) {
		while (next < nconn && connecting < 256) {
			if (open_conn(ep, &cs[next], next, &a) != 0) {
				kill_conn(ep, &cs[next], strerror(errno));
			} else {
				connecting++;
			}
			next++;
		}
		int n = epoll_wait(ep, evs, 512, 1000);
		for (int i = 0; i < n; i++)
			handle(ep, cs, (int)evs[i].data.u32, evs[i].events, 1,
			       &connecting);
		if (now_ns() - t0 > 60 * 1000000000LL) {
			fprintf(stderr, "loadgen: connecting took over 60 s\n");
			break;
		}
	}
	double csecs = (double)(now_ns() - t0) / 1e9;

	/* Phase 2: request/response until the time is up, then drain. */
	struct rusage ru0, ru1;
	getrusage(RUSAGE_SELF, &ru0);
	int64_t start = now_ns(), end = start + (int64_t)(secs * 1e9);
	for (int i = 0; i < nconn; i++)
		if (cs[i].state == 5)
			start_msg(ep, &cs[i], i);
	int running = 1;
	for (;;) {
		int64_t t = now_ns();
		if (running && t >= end)
			running = 0;
		if (!running) {
			int busy = 0;
			for (int i = 0; i < nconn && !busy; i++)
				busy = cs[i].state == 1 || cs[i].state == 2;
			if (!busy || t > end + 10 * 1000000000LL)
				break;
		}
		int n = epoll_wait(ep, evs, 512, 100);
		for (int i = 0; i < n; i++)
			handle(ep, cs, (int)evs[i].data.u32, evs[i].events,
			       running, &connecting);
	}
	double rsecs = (double)(now_ns() - start) / 1e9;
	getrusage(RUSAGE_SELF, &ru1);
	double cpu = (double)(ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec +
			      ru1.ru_stime.tv_sec - ru0.ru_stime.tv_sec) +
		     (double)(ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec +
			      ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec) / 1e6;
	int alive = 0;
	for (int i = 0; i < nconn; i++)
		if (cs[i].state != 3)
			alive++;
	qsort(lat, nlat, sizeof *lat, cmp_u32);
	printf("connections: %d\n", alive);
	printf("connect_seconds: %.2f\n", csecs);
	printf("requests: %zu\n", nlat);
	printf("req_per_s: %.0f\n", ninwin / secs);
	printf("p50_us: %u\n", nlat ? lat[nlat / 2] : 0);
	printf("p99_us: %u\n", nlat ? lat[nlat * 99 / 100] : 0);
	printf("max_us: %u\n", nlat ? lat[nlat - 1] : 0);
	printf("errors: %ld\n", errors);
	printf("cpu_pct: %.0f\n", 100 * cpu / (rsecs > 0 ? rsecs : 1));
	return (alive == nconn && errors == 0) ? 0 : 1;
}
