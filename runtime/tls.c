/*
 * tls.c - a glibc-compatible TLS block and TCB for every G.
 *
 * Why: glibc declares __errno_location const, so gcc keeps &errno in a
 * register across calls; after a G parks and resumes on another OS thread
 * that address would be the other thread's errno.  Every __thread variable
 * (the program's, libstdc++'s, libc's own malloc tcache, stdio lock owners,
 * locale, resolver) has the same problem.  So each G owns a complete static
 * TLS block + `struct pthread` (the TCB), and the context switch installs
 * the G's thread pointer as the FS base (switch.S).  DESIGN.md section 3.
 *
 * Layout of the top of a G's stack slot (high addresses first), as glibc's
 * allocate_stack lays out a thread:
 *
 *      slot top  -> struct rt_g            (64-byte aligned)
 *      tp        -> struct pthread (TCB)   (sizeof from _thread_db_sizeof_pthread)
 *                   static TLS blocks      (tp - l_tls_offset, filled by
 *                                           _dl_allocate_tls_init)
 *      stack hi  -> the G's stack, growing down
 *
 * The block is built with ld.so's GLIBC_PRIVATE _dl_allocate_tls (first use
 * of a slot) or _dl_allocate_tls_init after clearing the DTV (reuse, as
 * nptl's get_cached_stack does).  TCB fields that must be set, each proven
 * necessary by what broke without it (DESIGN.md section 3): self pointers,
 * multiple_threads, stack/pointer guards, a unique fake tid, the thread list
 * node self-linked, the robust list head, specific[0], stackblock, and the
 * rseq cpu_id (-2, so sched_getcpu falls back to the system call).
 *
 * Every offset is probed at start-up (rt_tls_probe) from exported
 * _thread_db_* descriptors or by finding a known value in the main thread's
 * TCB, and start-up refuses to continue with a clear message when a probe
 * does not match.  Thread-safety: rt_tls_probe runs once in the constructor;
 * everything else works on a TCB its caller owns.
 *
 * malloc tcache recycling: glibc 2.36 frees an exiting thread's tcache in
 * __libc_thread_freeres, which it does not export.  Instead the tcache
 * pointer (and thread_arena) of a dead G stay in its slot's TLS block and
 * are carried over into the next G spawned in that slot, so a slot costs
 * one tcache for its whole life instead of one per thread (no leak).  Their
 * offsets in libc's TLS block are found by running malloc on a fresh block
 * and seeing which words changed (rt_tls_probe_tcache).
 */
#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "atomic.h"
#include "internal.h"
#include "sys.h"

/* ld.so / libc private interfaces (GLIBC_PRIVATE; probed, not assumed). */
extern void *_dl_allocate_tls(void *mem);
extern void *_dl_allocate_tls_init(void *result, bool init_tls);
extern void _dl_deallocate_tls(void *tcb, bool dealloc_tcb);
extern void _dl_get_tls_static_info(size_t *sizep, size_t *alignp);
extern const uint32_t _thread_db_sizeof_pthread;
extern const uint32_t _thread_db_pthread_tid[3];
extern const uint32_t _thread_db_pthread_list[3];
extern const uint32_t _thread_db_pthread_specific[3];
extern void *__libc_stack_end;
extern __thread void *__resp;
extern void __ctype_init(void);
extern const ptrdiff_t __rseq_offset;
extern const unsigned int __rseq_size;
extern void __pthread_register_cancel(void *buf);
extern void __pthread_unregister_cancel(void *buf);

/* The G whose TLS block this is; per block, so "current G" is one load. */
__thread struct rt_g *rt_curg_tls;

struct rt_tlsinfo rt_tls;
uint8_t rt_have_fsgsbase;

/* dtv_t as glibc lays it out (sysdeps/generic/dl-dtv.h). */
typedef union {
	size_t counter;
	struct {
		void *val;
		void *to_free;
	} pointer;
} rt_dtv_t;

/* tcbhead_t offsets on x86_64 (sysdeps/x86_64/nptl/tls.h, ABI-fixed). */
enum {
	TCB_SELF0 = 0,
	TCB_DTV = 8,
	TCB_SELF = 16,
	TCB_MULTIPLE_THREADS = 24,
	TCB_SYSINFO = 32,
	TCB_STACK_GUARD = 40,
	TCB_POINTER_GUARD = 48,
	TCB_FEATURE_1 = 72,
};

#define AT(tp, off, type) (*(type *)((char *)(tp) + (off)))

static inline void *cur_tp(void)
{
	void *tp;
	__asm__("mov %%fs:0, %0" : "=r"(tp));
	return tp;
}

/* Offset of the unique word equal to `val` in [tp, tp+len), or -1. */
static long find_word(void *tp, size_t len, uintptr_t val)
{
	long found = -1;
	for (size_t off = 0; off + 8 <= len; off += 8) {
		if (AT(tp, off, uintptr_t) == val) {
			if (found >= 0)
				return -2;
			found = (long)off;
		}
	}
	return found;
}

static int libc_tls_cb(struct dl_phdr_info *info, size_t size, void *data)
{
	if (!strstr(info->dlpi_name, "/libc.so") || !info->dlpi_tls_data)
		return 0;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		if (info->dlpi_phdr[i].p_type == PT_TLS) {
			rt_tls.libc_tls_off =
			    (char *)info->dlpi_tls_data - (char *)data;
			rt_tls.libc_tls_size = info->dlpi_phdr[i].p_memsz;
			return 1;
		}
	}
	return 0;
}

/*
 * rt_tls_probe: learn sizes and TCB offsets from the running glibc.
 * Called once, on the main thread, before any G exists.  Returns NULL on
 * success or a message naming what did not match (the caller refuses to
 * start).
 */
const char *rt_tls_probe(void)
{
	void *tp = cur_tp();

	rt_tls.main_tp = tp;
	rt_tls.off_tcache = -1;
	rt_have_fsgsbase = (getauxval(AT_HWCAP2) & 2) != 0;
	_dl_get_tls_static_info(&rt_tls.static_size, &rt_tls.static_align);
	rt_tls.tcb_size = _thread_db_sizeof_pthread;
	if (rt_tls.tcb_size < 1024 || rt_tls.tcb_size > 16384 ||
	    rt_tls.static_size <= rt_tls.tcb_size || rt_tls.static_align > 4096)
		return "unexpected static TLS / struct pthread sizes";
	rt_tls.off_tid = _thread_db_pthread_tid[2];
	rt_tls.off_list = _thread_db_pthread_list[2];
	rt_tls.off_specific = _thread_db_pthread_specific[2];
	if (AT(tp, rt_tls.off_tid, pid_t) != (pid_t)rt_syscall0(SYS_gettid))
		return "struct pthread tid offset does not match";
	if (AT(tp, TCB_SELF, void *) != tp || AT(tp, TCB_SELF0, void *) != tp)
		return "TCB self pointers not found";

	/* specific[0] points into the TCB's own specific_1stblock. */
	uintptr_t s0 = AT(tp, rt_tls.off_specific, uintptr_t);
	if (s0 <= (uintptr_t)tp || s0 >= (uintptr_t)tp + rt_tls.tcb_size)
		return "specific[0] does not point into the TCB";
	rt_tls.off_specific1st = s0 - (uintptr_t)tp;

	/* Robust list head: the kernel knows where glibc registered it. */
	void *head = NULL;
	size_t hlen = 0;
	if (rt_syscall3(SYS_get_robust_list, 0, &head, &hlen) != 0 ||
	    (uintptr_t)head <= (uintptr_t)tp ||
	    (uintptr_t)head >= (uintptr_t)tp + rt_tls.tcb_size)
		return "robust list head not inside the TCB";
	rt_tls.off_robust = (char *)head - (char *)tp;
	rt_tls.robust_futex_offset = AT(tp, rt_tls.off_robust + 8, long);

	/* The main thread's stackblock_size holds __libc_stack_end
	 * (dl-tls_init_tp.c); stackblock precedes it; res follows tpp. */
	long sbs = find_word(tp, rt_tls.tcb_size, (uintptr_t)__libc_stack_end);
	if (sbs < 8)
		return "stackblock_size not found in the main TCB";
	rt_tls.off_stackblock = sbs - 8;
	rt_tls.off_res = rt_tls.off_stackblock + 5 * 8;

	/* cleanup_jmp_buf: register a buffer the glibc way, find it. */
	{
		void *buf[32] __attribute__((aligned(16)));
		memset(buf, 0, sizeof buf);
		__pthread_register_cancel(buf);
		long off = find_word(tp, rt_tls.tcb_size, (uintptr_t)buf);
		__pthread_unregister_cancel(buf);
		if (off < 0)
			return "cleanup_jmp_buf not found in the TCB";
		rt_tls.off_cleanup_jmp_buf = off;
	}

	if (__rseq_size > 0) {
		if (__rseq_offset <= 0 ||
		    (size_t)__rseq_offset + 8 > rt_tls.tcb_size)
			return "rseq area is not inside the TCB";
		rt_tls.off_rseq = __rseq_offset;
	}

	rt_tls.off_curg = (char *)&rt_curg_tls - (char *)tp;
	dl_iterate_phdr(libc_tls_cb, tp);
	if (rt_tls.libc_tls_size == 0)
		return "libc's TLS block not found";

	/* Bytes the top of a slot needs for G + TCB + static TLS. */
	size_t align = rt_tls.static_align < 64 ? 64 : rt_tls.static_align;
	rt_tls.align = align;
	rt_tls.area = ((sizeof(struct rt_g) + align - 1) & ~(align - 1)) +
		      rt_tls.static_size + align;
	return NULL;
}

/* Called from a native M thread: the res offset must match __resp. */
const char *rt_tls_check_native(void)
{
	void *tp = cur_tp();
	if ((char *)__resp - (char *)tp != (ptrdiff_t)rt_tls.off_res)
		return "struct pthread res offset does not match __resp";
	return NULL;
}

/*
 * Place G, TCB and TLS at the top of [lo, top).  Returns the G pointer and
 * sets *tpp and *stack_hi.  Pure arithmetic.
 */
struct rt_g *rt_tls_layout(uintptr_t top, void **tpp, uintptr_t *stack_hi)
{
	size_t align = rt_tls.align;
	uintptr_t g = (top - sizeof(struct rt_g)) & ~(uintptr_t)(align - 1);
	uintptr_t tp = (g - rt_tls.tcb_size) & ~(uintptr_t)(align - 1);
	uintptr_t tlslo = tp - (rt_tls.static_size - rt_tls.tcb_size);
	*tpp = (void *)tp;
	*stack_hi = tlslo & ~(uintptr_t)15;
	return (struct rt_g *)g;
}

static void tcb_fill(void *tp, pid_t faketid, uintptr_t stacklo,
		     size_t stacksize, size_t guard)
{
	void *me = rt_tls.main_tp;
	AT(tp, TCB_SELF0, void *) = tp;
	AT(tp, TCB_SELF, void *) = tp;
	AT(tp, TCB_MULTIPLE_THREADS, int) = 1;
	AT(tp, TCB_SYSINFO, uintptr_t) = AT(me, TCB_SYSINFO, uintptr_t);
	AT(tp, TCB_STACK_GUARD, uintptr_t) = AT(me, TCB_STACK_GUARD, uintptr_t);
	AT(tp, TCB_POINTER_GUARD, uintptr_t) =
	    AT(me, TCB_POINTER_GUARD, uintptr_t);
	AT(tp, TCB_FEATURE_1, uint32_t) = AT(me, TCB_FEATURE_1, uint32_t);
	/* thread list node linked to itself (fork's reclaim_stacks). */
	AT(tp, rt_tls.off_list, void *) = (char *)tp + rt_tls.off_list;
	AT(tp, rt_tls.off_list + 8, void *) = (char *)tp + rt_tls.off_list;
	AT(tp, rt_tls.off_tid, pid_t) = faketid;
	/* robust list: prev, then head {list, futex_offset, pending} */
	char *rh = (char *)tp + rt_tls.off_robust;
	AT(tp, rt_tls.off_robust - 8, void *) = rh;
	AT(tp, rt_tls.off_robust, void *) = rh;
	AT(tp, rt_tls.off_robust + 8, long) = rt_tls.robust_futex_offset;
	AT(tp, rt_tls.off_specific, void *) = (char *)tp + rt_tls.off_specific1st;
	AT(tp, rt_tls.off_stackblock, uintptr_t) = stacklo - guard;
	AT(tp, rt_tls.off_stackblock + 8, size_t) = stacksize + guard;
	AT(tp, rt_tls.off_stackblock + 16, size_t) = guard;
	AT(tp, rt_tls.off_stackblock + 24, size_t) = guard;
	if (rt_tls.off_rseq)
		AT(tp, rt_tls.off_rseq + 4, int32_t) = -2;
}

/*
 * rt_tls_init: make the TLS block + TCB at tp ready for a new thread.
 * `reuse` says the block held a thread before (its DTV is reused and its
 * malloc tcache carried over).  Returns 0, or ENOMEM when ld.so could not
 * allocate the DTV.  Runs on any context whose own TLS is valid.
 */
int rt_tls_init(void *tp, bool reuse, pid_t faketid, uintptr_t stacklo,
		size_t stacksize, size_t guard)
{
	void *tcache = NULL, *arena = NULL;
	rt_dtv_t *dtv = NULL;

	if (reuse) {
		dtv = AT(tp, TCB_DTV, rt_dtv_t *);
		rt_tls_get_tcache(tp, &tcache, &arena);
		size_t n = dtv[-1].counter;
		for (size_t i = 0; i < n; i++)
			free(dtv[1 + i].pointer.to_free);
		memset(dtv, 0, (n + 1) * sizeof(rt_dtv_t));
	}
	memset(tp, 0, rt_tls.tcb_size);
	tcb_fill(tp, faketid, stacklo, stacksize, guard);
	if (reuse) {
		AT(tp, TCB_DTV, rt_dtv_t *) = dtv;
		_dl_allocate_tls_init(tp, true);
	} else if (_dl_allocate_tls(tp) == NULL) {
		return ENOMEM;
	}
	if (tcache)
		rt_tls_set_tcache(tp, tcache, arena);
	return 0;
}

/* Read / write the malloc tcache and arena words of block tp (no-ops when
 * the probe did not find them). */
void rt_tls_get_tcache(void *tp, void **tcache, void **arena)
{
	if (rt_tls.off_tcache < 0)
		return;
	char *lb = (char *)tp + rt_tls.libc_tls_off;
	*tcache = AT(lb, rt_tls.off_tcache, void *);
	*arena = AT(lb, rt_tls.off_arena, void *);
}

void rt_tls_set_tcache(void *tp, void *tcache, void *arena)
{
	if (rt_tls.off_tcache < 0)
		return;
	char *lb = (char *)tp + rt_tls.libc_tls_off;
	AT(lb, rt_tls.off_tcache, void *) = tcache;
	AT(lb, rt_tls.off_arena, void *) = arena;
}

/* Free the DTV and dynamic TLS of a block whose memory goes away (user
 * stacks).  The tcache is lost with it (a bounded leak per user stack). */
void rt_tls_release(void *tp) { _dl_deallocate_tls(tp, false); }

void *rt_tcb_cleanup_buf(void)
{
	return AT(cur_tp(), rt_tls.off_cleanup_jmp_buf, void *);
}

/* Point the runtime's per-block "current G" at g inside block tp. */
void rt_tls_set_curg(void *tp, struct rt_g *g)
{
	AT(tp, rt_tls.off_curg, struct rt_g *) = g;
}

/* First thing a G does on its own TLS: libc per-thread set-up that
 * glibc's start_thread does (resolver state, ctype tables). */
void rt_tls_gstart(void *tp)
{
	__resp = (char *)tp + rt_tls.off_res;
	__ctype_init();
}

/* ---- tcache offset discovery ---------------------------------------- */

static unsigned char *probe_before;
static void *probe_ptr;

/* Runs on a fresh TLS block (see rt_tls_probe_tcache). */
void rt_tls_probe_tcache_body(void *tp)
{
	char *lb = (char *)tp + rt_tls.libc_tls_off;
	memcpy(probe_before, lb, rt_tls.libc_tls_size);
	probe_ptr = malloc(24);
	free(probe_ptr);
	long cand[2];
	int n = 0;
	for (size_t off = 0; off + 8 <= rt_tls.libc_tls_size; off += 8) {
		if (memcmp(probe_before + off, lb + off, 8) == 0)
			continue;
		if (n < 2)
			cand[n] = (long)off;
		n++;
	}
	if (n != 2)
		return;
	/* tcache_perthread_struct: uint16_t counts[64]; void *entries[64].
	 * The freed 24-byte chunk is entries[0].  The other word is the
	 * arena. */
	for (int i = 0; i < 2; i++) {
		void **w = AT(lb, cand[i], void **);
		if (w && AT(w, 128, void *) == probe_ptr &&
		    AT(w, 0, uint16_t) >= 1) {
			rt_tls.off_tcache = cand[i];
			rt_tls.off_arena = cand[1 - i];
		}
	}
}

void rt_tls_probe_tcache_prepare(void)
{
	probe_before = malloc(rt_tls.libc_tls_size);
}

void rt_tls_probe_tcache_done(void)
{
	free(probe_before);
	probe_before = NULL;
}

/*
 * In the child of fork(): glibc's fork (reclaim_stacks) believes the
 * forking *G's* TCB is the running thread, so it moves every other
 * thread's stack into its stack cache as free (tid = 0) -- including the
 * native stack and TCB of the very OS thread that forked, on which this
 * M's scheduler (g0) runs.  The next pthread_create would hand that stack
 * to a new M and wipe the running scheduler.  Mark it in use again (a
 * positive tid: glibc only reuses cached stacks whose tid <= 0), and take
 * the G's TCB back off glibc's thread list (glibc added it there; its
 * slot is ours and will be reused).  native_tp == g_tp for G1 on M0.
 */
void rt_tls_fork_child(void *g_tp, void *native_tp, pid_t tid, bool gmain)
{
	if (native_tp && native_tp != g_tp)
		AT(native_tp, rt_tls.off_tid, pid_t) = tid;
	if (!gmain) {
		void **node = (void **)((char *)g_tp + rt_tls.off_list);
		void **next = node[0], **prev = node[1];
		if (next && prev && next != (void *)node) {
			prev[0] = next; /* list_del: prev->next = next */
			next[1] = prev; /*           next->prev = prev */
		}
		node[0] = node[1] = node;
		AT(g_tp, rt_tls.off_tid, pid_t) = tid;
	}
}
