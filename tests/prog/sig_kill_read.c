/* pthread_kill with a handler on a thread blocked in read() on a pipe
 * (issue #6, acceptance 3): the handler runs on that thread (pthread_self
 * inside it is the target), and read() fails with EINTR when the handler
 * has no SA_RESTART, or goes on and returns the data with it.
 *
 * The sender cannot know the target has reached read(), so it re-sends
 * every millisecond until the target reports back (a signal that lands
 * before read() just runs the handler; the next one interrupts). */
// greenrun-test: env=GREENRUN_PROCS=1
// greenrun-test: env=GREENRUN_PROCS=2
#define TEST_NAME "sig_kill_read"
#include "sync_util.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

static pthread_t target;
static atomic_int handled, on_other;
static atomic_int done;
static int fds[2];
static ssize_t got;
static int got_errno;
static char buf[8];

static void on_usr1(int sig)
{
	if (sig != SIGUSR1 || !pthread_equal(pthread_self(), target))
		atomic_fetch_add(&on_other, 1);
	atomic_fetch_add(&handled, 1);
}

static void *reader(void *arg)
{
	errno = 0;
	got = read(fds[0], buf, sizeof buf);
	got_errno = errno;
	atomic_store(&done, 1);
	return NULL;
}

static void run(int flags)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_usr1;
	sa.sa_flags = flags;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGUSR1, &sa, NULL) != 0)
		die("sigaction: %s", strerror(errno));
	if (pipe(fds) != 0)
		die("pipe");
	atomic_store(&handled, 0);
	atomic_store(&done, 0);
	if (pthread_create(&target, NULL, reader, NULL) != 0)
		die("pthread_create");
	if (flags & SA_RESTART) {
		/* a few handler runs while parked, then data */
		while (atomic_load(&handled) < 3) {
			EXPECT_RC(pthread_kill(target, SIGUSR1), 0);
			ms_sleep(1);
		}
		if (atomic_load(&done))
			die("SA_RESTART: read returned %zd errno %d before data",
			    got, got_errno);
		if (write(fds[1], "x", 1) != 1)
			die("write");
	} else {
		while (!atomic_load(&done)) {
			EXPECT_RC(pthread_kill(target, SIGUSR1), 0);
			ms_sleep(1);
		}
	}
	pthread_join(target, NULL);
	if (atomic_load(&on_other))
		die("handler ran %d times off the target thread",
		    atomic_load(&on_other));
	if (flags & SA_RESTART) {
		if (got != 1 || buf[0] != 'x')
			die("SA_RESTART: read gave %zd (errno %d), want 1 'x'",
			    got, got_errno);
	} else if (got != -1 || got_errno != EINTR) {
		die("no SA_RESTART: read gave %zd errno %d, want -1 EINTR", got,
		    got_errno);
	}
	close(fds[0]);
	close(fds[1]);
}

int main(void)
{
	run(0);
	run(SA_RESTART);
	printf("sig_kill_read ok\n");
	return 0;
}
