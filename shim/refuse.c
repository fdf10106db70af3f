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
 * No entry now.  The Java virtual machine was refused here until signal
 * masks inside handlers were the thread's own (its SIGSEGV handler unblocks
 * SIGSEGV and may park; tests/prog/signal_handler_mask.c): it runs since.
 */
#include "shim.h"

/* Returns why this process must not run under greenrun, or NULL.  Called
 * once by the constructor, after the program's libraries are loaded. */
const char *shim_refuse_reason(void)
{
	return NULL;
}
