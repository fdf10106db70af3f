// net_listen_backlog: listen()'s backlog is the program's own unless
// GREENRUN_LISTEN_BACKLOG asks for a larger minimum.
//
// A listening AF_UNIX stream socket queues backlog + 1 connections; the
// next non-blocking connect fails with EAGAIN (deterministic, unlike TCP's
// dropped SYNs).  listen(fd, 1): natively and under greenrun by default 2
// connects succeed and the 3rd gets EAGAIN; with GREENRUN_LISTEN_BACKLOG=64
// (read here to know what to expect) 65 succeed and the 66th gets EAGAIN.
// greenrun-test: env=GREENRUN_PROCS=2
// greenrun-test: env=GREENRUN_LISTEN_BACKLOG=64
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(void)
{
	const char *env = getenv("GREENRUN_LISTEN_BACKLOG");
	int want = env ? atoi(env) + 1 : 2; /* connects that must queue */
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	snprintf(a.sun_path, sizeof a.sun_path, "/tmp/gr_backlog_%d", getpid());
	unlink(a.sun_path);
	int l = socket(AF_UNIX, SOCK_STREAM, 0);
	if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof a) != 0 ||
	    listen(l, 1) != 0) {
		perror("listener");
		return 1;
	}
	int ok = 0, err = 0;
	for (int i = 0; i < want + 1; i++) {
		int c = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
		if (connect(c, (struct sockaddr *)&a, sizeof a) == 0) {
			ok++;
		} else {
			err = errno;
			close(c);
			break;
		}
	}
	unlink(a.sun_path);
	if (ok != want || err != EAGAIN) {
		printf("queued %d connects (want %d), then errno %d (%s), want EAGAIN\n",
		       ok, want, err, strerror(err));
		return 1;
	}
	printf("ok: %d connects queued, then EAGAIN\n", ok);
	return 0;
}
