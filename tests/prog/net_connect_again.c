// net_connect_again: connect() again on a socket whose blocking connect()
// succeeded gives EISCONN, and after ECONNREFUSED a new connect() tries
// afresh (ECONNREFUSED again), as natively.
//
// Why (found by a fresh-eyes review): greenrun completes a blocking
// connect without blocking and read the outcome with SO_ERROR, which left
// the kernel's socket "connecting": the next connect() returned 0 again,
// or ECONNABORTED after a refusal.  It now collects the outcome with a
// second connect(), as the kernel expects.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int fails;

static void expect(const char *what, int r, int want)
{
	int got = r == 0 ? 0 : errno;
	if (got != want) {
		fprintf(stderr, "FAIL net_connect_again: %s: %s, want %s\n", what,
			got ? strerror(got) : "0", want ? strerror(want) : "0");
		fails++;
	}
}

int main(void)
{
	int l = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof a;
	if (bind(l, (struct sockaddr *)&a, sizeof a) || listen(l, 5) ||
	    getsockname(l, (struct sockaddr *)&a, &len))
		return 2;
	int c = socket(AF_INET, SOCK_STREAM, 0);
	expect("connect", connect(c, (struct sockaddr *)&a, sizeof a), 0);
	expect("connect again", connect(c, (struct sockaddr *)&a, sizeof a),
	       EISCONN);
	expect("and again", connect(c, (struct sockaddr *)&a, sizeof a), EISCONN);
	/* a closed port: the listener's own port once it is closed */
	struct sockaddr_in closed = a;
	close(l);
	int d = socket(AF_INET, SOCK_STREAM, 0);
	expect("connect to a closed port",
	       connect(d, (struct sockaddr *)&closed, sizeof closed), ECONNREFUSED);
	expect("and again", connect(d, (struct sockaddr *)&closed, sizeof closed),
	       ECONNREFUSED);
	if (!fails)
		printf("net_connect_again: 0 EISCONN EISCONN ECONNREFUSED "
		       "ECONNREFUSED\n");
	return fails != 0;
}
