// refuse_jvm: greenrun refuses to run a Java virtual machine, with a
// message naming why, instead of letting it die at random later.
//
// Why: the JVM's SIGSEGV handling needs per-thread signal masks inside
// signal handlers (tests/pending/signal_handler_mask.c); under greenrun a
// JVM that throws StackOverflowError was killed silently in 11 of 16 runs
// (compat/jvm_threads.sh).  greenrun recognises a JVM launcher by the
// JLI_Launch symbol of libjli.so; this program exports one (-rdynamic), so
// it looks like `java` to greenrun while staying a plain C program.
// Expected: exit status 127 before main() runs, and the reason on stderr.
// Natively it would print "main ran" and exit 0, hence native=no.
// greenrun-test: native=no
// greenrun-test: cflags=-rdynamic
// greenrun-test: expect-status=127
// greenrun-test: expect-stderr=^greenrun: cannot run in this process: the Java virtual machine is not supported yet: .*signal_handler_mask.*GREENRUN_ALLOW_JVM=1
// greenrun-test: timeout=30
#include <stdio.h>

int JLI_Launch(void);
int JLI_Launch(void)
{
    return 0;
}

int main(void)
{
    printf("main ran\n");
    return JLI_Launch();
}
