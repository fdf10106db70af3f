/*
 * netpoll.c - the netpoller: the one place an idle M blocks waiting for
 * time to pass or for the outside world.
 *
 * This first version owns the epoll instance and its wake-up eventfd only:
 * the M that finds no work and wins sched.polling blocks here until the
 * earliest timer of any P (findrunnable computes the delay) or until
 * rt_netpoll_break() writes the eventfd (a nearer timer was added, or work
 * appeared that idle Ps should take).  The per-fd poll descriptors of the
 * netpoll issue plug into rt_netpoll's event loop.
 *
 * epoll_pwait2 gives nanosecond timeouts (kernel 5.11+); where it is
 * missing we fall back to epoll_wait with the delay rounded up to 1 ms.
 * wakesig (Go's netpollWakeSig) keeps a burst of breaks to one write.
 */
#include <errno.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <time.h>

#include "atomic.h"
#include "internal.h"
#include "sys.h"

#ifndef SYS_epoll_pwait2
#define SYS_epoll_pwait2 441
#endif

static int epfd = -1, breakfd = -1;
static uint32_t wakesig;   /* atomic: a break is pending */
static int have_pwait2 = 1;
static int32_t nwaiters; /* atomic: Gs parked on fds */

int32_t rt_netpoll_waiters(void) { return rt_load(&nwaiters); }

int rt_netpoll_init(void)
{
	epfd = (int)rt_syscall1(SYS_epoll_create1, EPOLL_CLOEXEC);
	if (epfd < 0)
		return -1;
	breakfd = (int)rt_syscall2(SYS_eventfd2, 0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (breakfd < 0)
		return -1;
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 0};
	if (rt_syscall4(SYS_epoll_ctl, epfd, EPOLL_CTL_ADD, breakfd, &ev) < 0)
		return -1;
	return 0;
}

void rt_netpoll_break(void)
{
	if (!rt_cas(&wakesig, 0u, 1u))
		return;
	uint64_t one = 1;
	rt_syscall3(SYS_write, breakfd, &one, sizeof one);
}

struct rt_g *rt_netpoll(int64_t delay, int *n)
{
	struct epoll_event evs[64];
	long r;
	*n = 0;
	if (have_pwait2) {
		struct timespec ts, *tsp = NULL;
		if (delay >= 0) {
			ts.tv_sec = delay / 1000000000;
			ts.tv_nsec = delay % 1000000000;
			tsp = &ts;
		}
		r = rt_syscall6(SYS_epoll_pwait2, epfd, (long)evs, 64, (long)tsp,
				0, 8);
		if (r == -ENOSYS)
			have_pwait2 = 0;
	}
	if (!have_pwait2) {
		int ms = delay < 0 ? -1 : (int)((delay + 999999) / 1000000);
		r = rt_syscall4(SYS_epoll_wait, epfd, evs, 64, ms);
	}
	for (long i = 0; i < r; i++) {
		if (evs[i].data.u64 == 0) {
			uint64_t v;
			rt_syscall3(SYS_read, breakfd, &v, sizeof v);
			rt_store(&wakesig, 0u);
		}
	}
	return NULL;
}
