/* signalfd under greenrun: the program blocks SIGUSR1 and SIGUSR2 and
 * reads them from a signalfd.  A reader thread waits in poll() and then
 * read() (both park in the netpoller); other threads send the signals
 * with kill() to the process, 50 rounds.  Each round the reader gets
 * exactly the signal sent, with the sender's pid.  Also: epoll_wait on an
 * epoll fd that watches the signalfd. */
// greenrun-test: env=GREENRUN_PROCS=1
// greenrun-test: env=GREENRUN_PROCS=2
#define TEST_NAME "sig_signalfd"
#include "sync_util.h"

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

static int sfd;
static atomic_int round_got;

static void *reader(void *a)
{
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = {.events = EPOLLIN};
	epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev);
	for (int i = 0; i < 50; i++) {
		if (i % 2 == 0) {
			struct pollfd p = {.fd = sfd, .events = POLLIN};
			if (poll(&p, 1, 10000) != 1)
				die("poll round %d", i);
		} else if (epoll_wait(ep, &ev, 1, 10000) != 1) {
			die("epoll_wait round %d", i);
		}
		struct signalfd_siginfo si;
		if (read(sfd, &si, sizeof si) != sizeof si)
			die("read: %s", strerror(errno));
		int want = i % 2 ? SIGUSR2 : SIGUSR1;
		if ((int)si.ssi_signo != want || (pid_t)si.ssi_pid != getpid())
			die("round %d: signo %u pid %u, want %d %d", i,
			    si.ssi_signo, si.ssi_pid, want, getpid());
		atomic_store(&round_got, i + 1);
	}
	close(ep);
	return NULL;
}

static void *sender(void *a)
{
	for (int i = 0; i < 50; i++) {
		while (atomic_load(&round_got) < i)
			ms_sleep(1);
		kill(getpid(), i % 2 ? SIGUSR2 : SIGUSR1);
		while (atomic_load(&round_got) < i + 1)
			ms_sleep(1);
	}
	return NULL;
}

int main(void)
{
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGUSR1);
	sigaddset(&s, SIGUSR2);
	EXPECT_RC(pthread_sigmask(SIG_BLOCK, &s, NULL), 0);
	sfd = signalfd(-1, &s, SFD_CLOEXEC);
	if (sfd < 0)
		die("signalfd");
	pthread_t r, w;
	EXPECT_RC(pthread_create(&r, NULL, reader, NULL), 0);
	EXPECT_RC(pthread_create(&w, NULL, sender, NULL), 0);
	EXPECT_RC(pthread_join(r, NULL), 0);
	EXPECT_RC(pthread_join(w, NULL), 0);
	printf("sig_signalfd ok\n");
	return 0;
}
