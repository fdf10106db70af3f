/*
 * attr.c - pthread_attr_* and the process-wide default attributes.
 *
 * We interpose every pthread_attr_* function, so the 56 bytes of a
 * pthread_attr_t hold our own layout (struct sattr).  Values round-trip
 * exactly as set; checks and error numbers follow glibc 2.36
 * (nptl/pthread_attr_*.c).  The CPU set and signal mask live in a
 * malloc'ed extension freed by pthread_attr_destroy, as in glibc.
 * Scheduling policy/priority and affinity are stored and reported but
 * cannot bind a green thread (README).  Thread-safety: an attr object
 * belongs to its caller; the default attr is guarded by deflock.
 */
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shim.h"

enum {
	F_DETACHED = 1,
	F_EXPLICIT_SCHED = 2,
	F_SCOPE_PROCESS = 4,
	F_STACKADDR = 8,
	F_SIGMASK = 16,
	F_STACKTOP = 32, /* stackaddr is a top (setstackaddr), size unknown */
};

struct sattr_ext {
	cpu_set_t *cpuset;
	size_t cpusetsize;
	sigset_t sigmask;
};

struct sattr {
	int flags;
	int policy;
	int prio;
	size_t guardsize;
	size_t stacksize;  /* 0: the default */
	void *stackaddr;   /* lowest address, with F_STACKADDR */
	struct sattr_ext *ext;
};
_Static_assert(sizeof(struct sattr) <= sizeof(pthread_attr_t),
	       "struct sattr must fit pthread_attr_t");

#define SA(a) ((struct sattr *)(void *)(a))
#define CSA(a) ((const struct sattr *)(const void *)(a))

static rt_mutex deflock;
static size_t def_stacksize; /* 0: runtime default (GREENRUN_STACK) */
static size_t def_guardsize = 4096;

static size_t default_stack(void)
{
	shim_check();
	return def_stacksize ? def_stacksize : rt_sched.defstack;
}

EXPORT int pthread_attr_init(pthread_attr_t *a)
{
	memset(a, 0, sizeof *a);
	SA(a)->guardsize = (size_t)sysconf(_SC_PAGESIZE);
	return 0;
}

EXPORT int pthread_attr_destroy(pthread_attr_t *a)
{
	struct sattr_ext *x = SA(a)->ext;
	if (x) {
		free(x->cpuset);
		free(x);
	}
	memset(a, 0, sizeof *a);
	return 0;
}

EXPORT int pthread_attr_setdetachstate(pthread_attr_t *a, int s)
{
	if (s == PTHREAD_CREATE_DETACHED)
		SA(a)->flags |= F_DETACHED;
	else if (s == PTHREAD_CREATE_JOINABLE)
		SA(a)->flags &= ~F_DETACHED;
	else
		return EINVAL;
	return 0;
}

EXPORT int pthread_attr_getdetachstate(const pthread_attr_t *a, int *s)
{
	*s = CSA(a)->flags & F_DETACHED ? PTHREAD_CREATE_DETACHED
					: PTHREAD_CREATE_JOINABLE;
	return 0;
}

EXPORT int pthread_attr_setguardsize(pthread_attr_t *a, size_t g)
{
	SA(a)->guardsize = g;
	return 0;
}

EXPORT int pthread_attr_getguardsize(const pthread_attr_t *a, size_t *g)
{
	*g = CSA(a)->guardsize;
	return 0;
}

EXPORT int pthread_attr_setstacksize(pthread_attr_t *a, size_t s)
{
	if (s < (size_t)PTHREAD_STACK_MIN)
		return EINVAL;
	SA(a)->stacksize = s;
	return 0;
}

EXPORT int pthread_attr_getstacksize(const pthread_attr_t *a, size_t *s)
{
	*s = CSA(a)->stacksize ? CSA(a)->stacksize : default_stack();
	return 0;
}

EXPORT int pthread_attr_setstack(pthread_attr_t *a, void *addr, size_t s)
{
	if (s < (size_t)PTHREAD_STACK_MIN)
		return EINVAL;
	SA(a)->stackaddr = addr;
	SA(a)->stacksize = s;
	SA(a)->flags = (SA(a)->flags | F_STACKADDR) & ~F_STACKTOP;
	return 0;
}

EXPORT int pthread_attr_getstack(const pthread_attr_t *a, void **addr,
				 size_t *s)
{
	*addr = CSA(a)->stackaddr;
	*s = CSA(a)->stacksize ? CSA(a)->stacksize : default_stack();
	return 0;
}

/* Obsolete: the address is the *top* of the stack on x86_64 (glibc). */
EXPORT int pthread_attr_setstackaddr(pthread_attr_t *a, void *top)
{
	SA(a)->stackaddr = top;
	SA(a)->flags |= F_STACKADDR | F_STACKTOP;
	return 0;
}

EXPORT int pthread_attr_getstackaddr(const pthread_attr_t *a, void **top)
{
	if (CSA(a)->flags & F_STACKTOP)
		*top = CSA(a)->stackaddr;
	else
		*top = (char *)CSA(a)->stackaddr + CSA(a)->stacksize;
	return 0;
}

EXPORT int pthread_attr_setscope(pthread_attr_t *a, int scope)
{
	if (scope == PTHREAD_SCOPE_SYSTEM) {
		SA(a)->flags &= ~F_SCOPE_PROCESS;
		return 0;
	}
	return scope == PTHREAD_SCOPE_PROCESS ? ENOTSUP : EINVAL;
}

EXPORT int pthread_attr_getscope(const pthread_attr_t *a, int *scope)
{
	*scope = PTHREAD_SCOPE_SYSTEM;
	return 0;
}

EXPORT int pthread_attr_setinheritsched(pthread_attr_t *a, int v)
{
	if (v == PTHREAD_EXPLICIT_SCHED)
		SA(a)->flags |= F_EXPLICIT_SCHED;
	else if (v == PTHREAD_INHERIT_SCHED)
		SA(a)->flags &= ~F_EXPLICIT_SCHED;
	else
		return EINVAL;
	return 0;
}

EXPORT int pthread_attr_getinheritsched(const pthread_attr_t *a, int *v)
{
	*v = CSA(a)->flags & F_EXPLICIT_SCHED ? PTHREAD_EXPLICIT_SCHED
					      : PTHREAD_INHERIT_SCHED;
	return 0;
}

EXPORT int pthread_attr_setschedpolicy(pthread_attr_t *a, int p)
{
	if (p != SCHED_OTHER && p != SCHED_FIFO && p != SCHED_RR)
		return EINVAL;
	SA(a)->policy = p;
	return 0;
}

EXPORT int pthread_attr_getschedpolicy(const pthread_attr_t *a, int *p)
{
	*p = CSA(a)->policy;
	return 0;
}

EXPORT int pthread_attr_setschedparam(pthread_attr_t *a,
				      const struct sched_param *sp)
{
	int pol = SA(a)->policy;
	if (sp->sched_priority < sched_get_priority_min(pol) ||
	    sp->sched_priority > sched_get_priority_max(pol))
		return EINVAL;
	SA(a)->prio = sp->sched_priority;
	return 0;
}

EXPORT int pthread_attr_getschedparam(const pthread_attr_t *a,
				      struct sched_param *sp)
{
	memset(sp, 0, sizeof *sp);
	sp->sched_priority = CSA(a)->prio;
	return 0;
}

static struct sattr_ext *ext(pthread_attr_t *a)
{
	if (!SA(a)->ext)
		SA(a)->ext = calloc(1, sizeof(struct sattr_ext));
	return SA(a)->ext;
}

EXPORT int pthread_attr_setaffinity_np(pthread_attr_t *a, size_t n,
				       const cpu_set_t *set)
{
	if (n == 0) {
		if (SA(a)->ext) {
			free(SA(a)->ext->cpuset);
			SA(a)->ext->cpuset = NULL;
			SA(a)->ext->cpusetsize = 0;
		}
		return 0;
	}
	struct sattr_ext *x = ext(a);
	cpu_set_t *c = x ? malloc(n) : NULL;
	if (!c)
		return ENOMEM;
	memcpy(c, set, n);
	free(x->cpuset);
	x->cpuset = c;
	x->cpusetsize = n;
	return 0;
}

EXPORT int pthread_attr_getaffinity_np(const pthread_attr_t *a, size_t n,
				       cpu_set_t *set)
{
	const struct sattr_ext *x = CSA(a)->ext;
	if (x && x->cpuset) {
		if (n < x->cpusetsize) {
			/* glibc: fine if the extra bytes are all zero */
			for (size_t i = n; i < x->cpusetsize; i++)
				if (((char *)x->cpuset)[i])
					return EINVAL;
		}
		size_t c = n < x->cpusetsize ? n : x->cpusetsize;
		memcpy(set, x->cpuset, c);
		memset((char *)set + c, 0, n - c);
	} else {
		memset(set, 0xff, n); /* no restriction: all CPUs */
	}
	return 0;
}

EXPORT int pthread_attr_setsigmask_np(pthread_attr_t *a, const sigset_t *m)
{
	if (!m) {
		SA(a)->flags &= ~F_SIGMASK;
		return 0;
	}
	struct sattr_ext *x = ext(a);
	if (!x)
		return ENOMEM;
	x->sigmask = *m;
	SA(a)->flags |= F_SIGMASK;
	return 0;
}

EXPORT int pthread_attr_getsigmask_np(const pthread_attr_t *a, sigset_t *m)
{
	if (!(CSA(a)->flags & F_SIGMASK)) {
		sigemptyset(m);
		return PTHREAD_ATTR_NO_SIGMASK_NP;
	}
	*m = CSA(a)->ext->sigmask;
	return 0;
}

EXPORT int pthread_getattr_default_np(pthread_attr_t *a)
{
	pthread_attr_init(a);
	rt_lock(&deflock);
	SA(a)->stacksize = def_stacksize ? def_stacksize : default_stack();
	SA(a)->guardsize = def_guardsize;
	rt_unlock(&deflock);
	return 0;
}

EXPORT int pthread_setattr_default_np(const pthread_attr_t *a)
{
	const struct sattr *s = CSA(a);
	if (s->flags & (F_STACKADDR | F_SIGMASK))
		return EINVAL;
	if (s->ext && s->ext->cpuset)
		return EINVAL;
	if (s->stacksize && s->stacksize < (size_t)PTHREAD_STACK_MIN)
		return EINVAL;
	rt_lock(&deflock);
	if (s->stacksize)
		def_stacksize = s->stacksize;
	def_guardsize = s->guardsize;
	rt_unlock(&deflock);
	return 0;
}

int shim_attr_to_spawn(const pthread_attr_t *a, struct rt_spawn_attr *sa)
{
	memset(sa, 0, sizeof *sa);
	rt_lock(&deflock);
	sa->stacksize = def_stacksize;
	sa->guardsize = def_guardsize;
	rt_unlock(&deflock);
	if (!a)
		return 0;
	const struct sattr *s = CSA(a);
	sa->detached = s->flags & F_DETACHED;
	if (s->flags & F_SIGMASK) {
		sa->has_sigmask = true;
		sa->sigmask = shim_sigset_bits(&s->ext->sigmask);
	}
	sa->guardsize = s->guardsize;
	if (s->flags & F_STACKADDR) {
		size_t size = s->stacksize ? s->stacksize : default_stack();
		char *addr = s->stackaddr;
		if (s->flags & F_STACKTOP) /* setstackaddr gave the top */
			addr -= size;
		sa->stackaddr = addr;
		sa->stackaddr_size = size;
	} else if (s->stacksize) {
		sa->stacksize = s->stacksize;
	}
	return 0;
}

/* Scheduling policy and priority a new thread starts with: the attr's
 * with PTHREAD_EXPLICIT_SCHED, else the creator's (POSIX). */
void shim_attr_sched(const pthread_attr_t *a, int *policy, int *prio)
{
	if (a && (CSA(a)->flags & F_EXPLICIT_SCHED)) {
		*policy = CSA(a)->policy;
		*prio = CSA(a)->prio;
	}
}
