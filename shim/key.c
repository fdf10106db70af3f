/*
 * key.c - thread-specific data: pthread_key_create/delete, get/setspecific
 * and the destructor rounds at thread exit.
 *
 * As glibc (nptl/pthread_key_create.c): a global table of PTHREAD_KEYS_MAX
 * keys, each with a sequence number that is odd while the key is in use;
 * a thread's value carries the sequence it was stored under, so a value
 * of a deleted (and maybe re-created) key reads as NULL.  Per thread: 32
 * inline slots in the G's shim area, further blocks of 32 malloc'ed on
 * first set.  Destructors: up to PTHREAD_DESTRUCTOR_ITERATIONS rounds
 * while values remain non-NULL.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "shim.h"

static struct {
	uintptr_t seq; /* atomic: odd = in use */
	void (*destr)(void *);
} keys[SHIM_KEYS_MAX];

EXPORT int pthread_key_create(pthread_key_t *k, void (*destr)(void *))
{
	shim_check();
	for (size_t i = 0; i < SHIM_KEYS_MAX; i++) {
		uintptr_t s = __atomic_load_n(&keys[i].seq, __ATOMIC_ACQUIRE);
		if ((s & 1) == 0 &&
		    __atomic_compare_exchange_n(&keys[i].seq, &s, s + 1, false,
						__ATOMIC_SEQ_CST,
						__ATOMIC_SEQ_CST)) {
			keys[i].destr = destr;
			*k = (pthread_key_t)i;
			return 0;
		}
	}
	return EAGAIN;
}

EXPORT int pthread_key_delete(pthread_key_t k)
{
	if (k >= SHIM_KEYS_MAX)
		return EINVAL;
	uintptr_t s = __atomic_load_n(&keys[k].seq, __ATOMIC_ACQUIRE);
	if ((s & 1) == 0 ||
	    !__atomic_compare_exchange_n(&keys[k].seq, &s, s + 1, false,
					 __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
		return EINVAL;
	return 0;
}

static struct shim_keydata *slot(struct shim_thread *st, pthread_key_t k,
				 bool create)
{
	if (k < SHIM_KEY_BLOCK)
		return &st->keys[k];
	struct shim_keydata **blk = &st->keyblocks[k / SHIM_KEY_BLOCK];
	if (!*blk) {
		if (!create)
			return NULL;
		*blk = calloc(SHIM_KEY_BLOCK, sizeof **blk);
		if (!*blk)
			return NULL;
	}
	return &(*blk)[k % SHIM_KEY_BLOCK];
}

EXPORT void *pthread_getspecific(pthread_key_t k)
{
	shim_check();
	if (k >= SHIM_KEYS_MAX)
		return NULL;
	struct shim_keydata *d = slot(shim_self(), k, false);
	if (!d || !d->val)
		return NULL;
	if (d->seq != __atomic_load_n(&keys[k].seq, __ATOMIC_RELAXED)) {
		d->val = NULL; /* stale: the key was deleted */
		return NULL;
	}
	return d->val;
}

EXPORT int pthread_setspecific(pthread_key_t k, const void *v)
{
	shim_check();
	if (k >= SHIM_KEYS_MAX)
		return EINVAL;
	uintptr_t seq = __atomic_load_n(&keys[k].seq, __ATOMIC_RELAXED);
	if ((seq & 1) == 0)
		return EINVAL;
	struct shim_keydata *d = slot(shim_self(), k, v != NULL);
	if (!d)
		return v ? ENOMEM : 0;
	d->seq = seq;
	d->val = (void *)v;
	return 0;
}

void shim_keys_run_destructors(struct shim_thread *st)
{
	for (int round = 0; round < PTHREAD_DESTRUCTOR_ITERATIONS; round++) {
		bool again = false;
		for (pthread_key_t k = 0; k < SHIM_KEYS_MAX; k++) {
			if (k % SHIM_KEY_BLOCK == 0 && k >= SHIM_KEY_BLOCK &&
			    !st->keyblocks[k / SHIM_KEY_BLOCK]) {
				k += SHIM_KEY_BLOCK - 1;
				continue;
			}
			struct shim_keydata *d = slot(st, k, false);
			if (!d || !d->val)
				continue;
			void *v = d->val;
			d->val = NULL;
			uintptr_t seq =
			    __atomic_load_n(&keys[k].seq, __ATOMIC_ACQUIRE);
			void (*f)(void *) = keys[k].destr;
			if (d->seq == seq && (seq & 1) && f) {
				f(v);
				again = true;
			}
		}
		if (!again)
			break;
	}
	for (size_t i = 1; i < SHIM_KEYS_MAX / SHIM_KEY_BLOCK; i++) {
		free(st->keyblocks[i]);
		st->keyblocks[i] = NULL;
	}
}
