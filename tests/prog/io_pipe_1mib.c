/* 1 MiB through a pipe: one thread writes it in random chunk sizes
 * (1 byte .. 128 KiB, so both atomic and partial pipe writes happen), the
 * other reads in random sizes; the bytes must arrive identical and in
 * order.  Run on one P and on two. */
// greenrun-test: env=GREENRUN_PROCS=1
// greenrun-test: env=GREENRUN_PROCS=2
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define N (1 << 20)
static unsigned char src[N], dst[N];
static int p[2];

static unsigned rnd(unsigned *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 8;
}

static void *writer(void *a)
{
	unsigned s = 1;
	size_t off = 0;
	while (off < N) {
		size_t n = 1 + rnd(&s) % (128 * 1024);
		if (n > N - off)
			n = N - off;
		ssize_t r = write(p[1], src + off, n);
		if (r != (ssize_t)n) {
			fprintf(stderr, "write %zu returned %zd\n", n, r);
			exit(1);
		}
		off += n;
	}
	close(p[1]);
	return NULL;
}

int main(void)
{
	unsigned s = 7;
	for (size_t i = 0; i < N; i++)
		src[i] = (unsigned char)rnd(&s);
	if (pipe(p) != 0)
		return 1;
	pthread_t t;
	pthread_create(&t, NULL, writer, NULL);
	size_t off = 0;
	for (;;) {
		size_t n = 1 + rnd(&s) % 100000;
		if (n > N - off)
			n = N - off + 1;
		ssize_t r = read(p[0], dst + off, n);
		if (r < 0) {
			perror("read");
			return 1;
		}
		if (r == 0)
			break;
		off += (size_t)r;
	}
	pthread_join(t, NULL);
	if (off != N || memcmp(src, dst, N) != 0) {
		fprintf(stderr, "got %zu bytes, content %s\n", off,
			memcmp(src, dst, N) ? "differs" : "same");
		return 1;
	}
	printf("io_pipe_1mib: ok\n");
	return 0;
}
