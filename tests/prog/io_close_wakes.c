/* close() or dup2() over an fd another thread is blocked reading.
 *
 * Natively Linux does NOT wake the reader: it keeps waiting on the old
 * file (the kernel holds a reference) and gets data written to that file
 * later.  Under greenrun the reader is woken with EBADF (DESIGN.md 5).
 * What both agree on, and what this test checks: the reader returns
 * promptly once data is written to the old pipe (or earlier), with either
 * the data or -1/EBADF, never anything else, and a new fd that reuses the
 * number is not disturbed by the old file's readiness. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHECK(c)                                                               \
	do {                                                                   \
		if (!(c)) {                                                    \
			fprintf(stderr, "%s:%d: check failed: %s (errno %d)\n", \
				__FILE__, __LINE__, #c, errno);                \
			exit(1);                                               \
		}                                                              \
	} while (0)

struct rd {
	int fd;
	ssize_t r;
	int err;
	char c;
};

static void *reader(void *arg)
{
	struct rd *a = arg;
	errno = 0;
	a->r = read(a->fd, &a->c, 1);
	a->err = errno;
	return NULL;
}

static void check_result(struct rd *a, char want)
{
	CHECK((a->r == 1 && a->c == want) || (a->r == -1 && a->err == EBADF));
	printf("reader got %s\n", a->r == 1 ? "data (native)" : "EBADF");
}

int main(void)
{
	/* close */
	int p[2];
	CHECK(pipe(p) == 0);
	struct rd a = {.fd = p[0]};
	pthread_t t;
	CHECK(pthread_create(&t, NULL, reader, &a) == 0);
	usleep(100000);
	int keep = dup(p[0]); /* the old file stays alive */
	CHECK(close(p[0]) == 0);
	/* reuse the number for a new pipe: its readiness must stay its own */
	int q[2];
	CHECK(pipe(q) == 0);
	usleep(100000);
	CHECK(write(p[1], "a", 1) == 1);
	CHECK(pthread_join(t, NULL) == 0);
	check_result(&a, 'a');
	close(keep);
	close(p[1]);

	/* dup2 over the blocked fd */
	int r[2];
	CHECK(pipe(r) == 0);
	struct rd b = {.fd = r[0]};
	CHECK(pthread_create(&t, NULL, reader, &b) == 0);
	usleep(100000);
	keep = dup(r[0]);
	CHECK(dup2(q[0], r[0]) == r[0]);
	usleep(100000);
	CHECK(write(r[1], "b", 1) == 1);
	CHECK(pthread_join(t, NULL) == 0);
	check_result(&b, 'b');
	/* the replaced number now reads the other pipe */
	CHECK(write(q[1], "c", 1) == 1);
	char c;
	CHECK(read(r[0], &c, 1) == 1 && c == 'c');
	printf("io_close_wakes: ok\n");
	return 0;
}
