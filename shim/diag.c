/*
 * diag.c - what thread dumps can say about a program's wait objects.
 *
 * runtime/dump.c knows a waiting G's reason and the address of the word
 * it waits on; only shim/ knows glibc's layouts.  For a mutex (the word
 * is __lock, at offset 0) the holder is __owner, which mutex.c sets to
 * the holder's shim_self_id() (its thread id, goid & 0x3fffffff): the
 * dump then says "mutex 0x... held by thread 4", which is what makes a
 * lock-order deadlock readable.  Reads the object racily: it may change
 * while we look (the dump is a snapshot), never fault (the waiter's own
 * object is alive while it waits).
 */
#include <pthread.h>
#include <stdio.h>

#include "diag.h"
#include "shim.h"

static int waitdesc(int why, void *addr, char *buf, size_t len)
{
	if (why != WAIT_MUTEX)
		return 0;
	const pthread_mutex_t *m = addr;
	int owner = __atomic_load_n(&m->__data.__owner, __ATOMIC_RELAXED);
	if (owner <= 0)
		return 0;
	return snprintf(buf, len, " held by thread %d", owner);
}

__attribute__((constructor)) static void diag_init(void)
{
	rt_waitdesc = waitdesc;
}
