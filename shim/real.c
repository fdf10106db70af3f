/*
 * real.c - the table of real C library functions, resolved once.
 *
 * We interpose pthread_create & co., so to create OS threads (Ms) and to
 * answer questions about the main thread we need glibc's own versions.
 * dlvsym(RTLD_NEXT, name, version) picks the current symbol version
 * (pthread_create@@GLIBC_2.34); plain dlsym is the fallback for names
 * that have a single version.  Resolved in shim_init, single-threaded.
 */
#include <dlfcn.h>
#include <stdlib.h>
#include <unistd.h>

#include "shim.h"

struct real_libc real;

static void *sym(const char *name, const char *ver)
{
	void *p = ver ? dlvsym(RTLD_NEXT, name, ver) : NULL;
	if (!p)
		p = dlsym(RTLD_NEXT, name);
	if (!p) {
		static const char msg[] = "greenrun: cannot resolve a C library "
					  "function; refusing to start\n";
		(void)!write(2, msg, sizeof msg - 1);
		_exit(127);
	}
	return p;
}

void shim_real_init(void)
{
	real.pthread_create = sym("pthread_create", "GLIBC_2.34");
	real.pthread_attr_init = sym("pthread_attr_init", "GLIBC_2.2.5");
	real.pthread_attr_destroy = sym("pthread_attr_destroy", "GLIBC_2.2.5");
	real.pthread_attr_setstacksize =
	    sym("pthread_attr_setstacksize", "GLIBC_2.34");
	real.pthread_attr_setdetachstate =
	    sym("pthread_attr_setdetachstate", "GLIBC_2.2.5");
	real.pthread_attr_getstack = sym("pthread_attr_getstack", "GLIBC_2.34");
	real.pthread_attr_getguardsize =
	    sym("pthread_attr_getguardsize", "GLIBC_2.2.5");
	real.pthread_getattr_np = sym("pthread_getattr_np", "GLIBC_2.32");
	real.clock_nanosleep = sym("clock_nanosleep", "GLIBC_2.17");
	real.pthread_kill = sym("pthread_kill", "GLIBC_2.34");
}
