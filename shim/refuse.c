/*
 * refuse.c - programs greenrun knows it cannot run correctly yet.
 *
 * Running such a program would not fail cleanly: it would crash at random
 * later.  So the constructor asks shim_refuse_reason() first and, when it
 * names a reason, greenrun prints it and exits before main() (init.c).
 * Each entry names the missing feature, the pending test that shows it,
 * and a variable that runs the program anyway; remove the entry in the
 * change that moves that test to tests/prog/.
 *
 * The Java virtual machine (found by compat/jvm_threads.sh).  Its SIGSEGV
 * handler turns faults into Java semantics: stack banging into the guard
 * zones becomes StackOverflowError, and also implicit null checks and
 * safepoint polls.  The handler unblocks SIGSEGV with pthread_sigmask so
 * that a fault inside it (SafeFetch while it walks frames) is handled too.
 * Under greenrun that unblock does not reach the kernel while a handler
 * runs, and a thread that parks or is preempted inside a handler leaves
 * its OS thread running other threads with SIGSEGV blocked; the next fault
 * kills the whole process silently (tests/pending/signal_handler_mask.c).
 * Measured: StackOverflowError caught in 16 threads killed the JVM in 11
 * of 16 runs.  Recognised by JLI_Launch (libjli.so: java, javac, jshell,
 * ... launchers) or JNI_CreateJavaVM (programs linked with libjvm.so).
 */
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include "shim.h"

/* Is variable `name` set to something other than "" or "0"? */
static bool env_on(const char *name)
{
	const char *v = getenv(name);
	return v && *v && strcmp(v, "0") != 0;
}

/* Returns why this process must not run under greenrun, or NULL.  Called
 * once by the constructor, after the program's libraries are loaded. */
const char *shim_refuse_reason(void)
{
	if ((dlsym(RTLD_DEFAULT, "JLI_Launch") ||
	     dlsym(RTLD_DEFAULT, "JNI_CreateJavaVM")) &&
	    !env_on("GREENRUN_ALLOW_JVM"))
		return "the Java virtual machine is not supported yet: its "
		       "SIGSEGV handler (StackOverflowError, null checks, "
		       "safepoints) needs per-thread signal masks inside "
		       "signal handlers, which greenrun does not keep yet, "
		       "so the JVM would die at random "
		       "(tests/pending/signal_handler_mask.c); "
		       "GREENRUN_ALLOW_JVM=1 runs it anyway";
	return NULL;
}
