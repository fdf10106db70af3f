/*
 * test_runtime.c - Check unit tests of runtime/ internals, linked
 * statically (never through the preloaded shim).  Each test runs in its
 * own forked process (Check's default), so tests that start the runtime
 * (rt_init adopts the test process's main thread as G1) do not leak into
 * each other.
 *
 * What is covered: run queue order, overflow and stealing; the timer heap;
 * size parsing; stack slot layout, reuse and lookup; TLS probing; and,
 * with the scheduler running, spawn/join/detach results, errno per G under
 * migration, wait-queue wake/timeout, and sleep deadlines.
 */
#include <check.h>
#include <stdio.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "atomic.h"
#include "internal.h"

size_t rt_parse_size(const char *s);

/* ---- helpers ----------------------------------------------------------- */

static struct rt_g fakeg[600];

static void sched_setup(int nprocs)
{
	memset(&rt_sched, 0, sizeof rt_sched);
	rt_sched.nprocs = nprocs;
	rt_sched.allp = calloc((size_t)nprocs, sizeof(struct rt_p));
	for (int i = 0; i < nprocs; i++)
		rt_sched.allp[i].id = i;
}

static int os_thread_create(void *(*fn)(void *), void *arg, size_t stack)
{
	pthread_attr_t a;
	pthread_t t;
	pthread_attr_init(&a);
	pthread_attr_setstacksize(&a, stack);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	int e = pthread_create(&t, &a, fn, arg);
	pthread_attr_destroy(&a);
	return e;
}

static void start_runtime(const char *procs)
{
	setenv("GREENRUN_PROCS", procs, 1);
	rt_os.thread_create = os_thread_create;
	const char *e = rt_init();
	ck_assert_msg(e == NULL, "rt_init: %s", e ? e : "");
}

/* Permissions of the mapping containing addr, from /proc/self/maps. */
static const char *perms_at(uintptr_t addr)
{
	static char perms[8];
	FILE *f = fopen("/proc/self/maps", "r");
	unsigned long lo, hi;
	strcpy(perms, "none");
	while (f && fscanf(f, "%lx-%lx %7s%*[^\n]", &lo, &hi, perms) == 3) {
		if (addr >= lo && addr < hi)
			break;
		strcpy(perms, "none");
	}
	if (f)
		fclose(f);
	return perms;
}

/* ---- run queues ---------------------------------------------------------- */

START_TEST(test_runq_fifo_and_runnext)
{
	sched_setup(1);
	struct rt_p *p = &rt_sched.allp[0];
	for (int i = 0; i < 10; i++)
		rt_runqput(p, &fakeg[i], false);
	rt_runqput(p, &fakeg[100], true);
	rt_runqput(p, &fakeg[101], true); /* kicks 100 to the tail */
	ck_assert_ptr_eq(rt_runqget(p), &fakeg[101]);
	for (int i = 0; i < 10; i++)
		ck_assert_ptr_eq(rt_runqget(p), &fakeg[i]);
	ck_assert_ptr_eq(rt_runqget(p), &fakeg[100]);
	ck_assert_ptr_eq(rt_runqget(p), NULL);
	ck_assert(rt_runqempty(p));
}
END_TEST

START_TEST(test_runq_overflow_to_global)
{
	sched_setup(1);
	struct rt_p *p = &rt_sched.allp[0];
	for (int i = 0; i < RT_RUNQ_SIZE + 1; i++)
		rt_runqput(p, &fakeg[i], false);
	/* half the ring (128) plus the new G went to the global queue */
	ck_assert_int_eq(rt_sched.runqsize, RT_RUNQ_SIZE / 2 + 1);
	ck_assert_uint_eq(rt_runqlen(p), RT_RUNQ_SIZE / 2);
	/* the global queue holds the oldest half, in order, then the new G */
	struct rt_g *g = rt_sched.runqhead;
	for (int i = 0; i < RT_RUNQ_SIZE / 2; i++, g = g->schedlink)
		ck_assert_ptr_eq(g, &fakeg[i]);
	ck_assert_ptr_eq(g, &fakeg[RT_RUNQ_SIZE]);
	ck_assert_ptr_eq(rt_runqget(p), &fakeg[RT_RUNQ_SIZE / 2]);
}
END_TEST

START_TEST(test_runq_steal_half)
{
	sched_setup(2);
	struct rt_p *a = &rt_sched.allp[0], *b = &rt_sched.allp[1];
	for (int i = 0; i < 10; i++)
		rt_runqput(a, &fakeg[i], false);
	struct rt_g *g = rt_runqsteal(b, a, false);
	/* 5 stolen: the first four sit on b's ring, the fifth is returned */
	ck_assert_ptr_eq(g, &fakeg[4]);
	ck_assert_uint_eq(rt_runqlen(b), 4);
	ck_assert_uint_eq(rt_runqlen(a), 5);
	ck_assert_ptr_eq(rt_runqget(b), &fakeg[0]);
	ck_assert_ptr_eq(rt_runqget(a), &fakeg[5]);
	/* runnext is only stolen when asked and the ring is empty */
	sched_setup(2);
	a = &rt_sched.allp[0];
	b = &rt_sched.allp[1];
	rt_runqput(a, &fakeg[7], true);
	ck_assert_ptr_eq(rt_runqsteal(b, a, false), NULL);
	ck_assert_ptr_eq(rt_runqsteal(b, a, true), &fakeg[7]);
	ck_assert(rt_runqempty(a));
}
END_TEST

START_TEST(test_globrunqget_fair_share)
{
	sched_setup(2);
	struct rt_p *p = &rt_sched.allp[0];
	for (int i = 0; i < 20; i++)
		rt_globrunqput(&fakeg[i]);
	/* 20/2 + 1 = 11: one returned, ten moved to the local ring */
	ck_assert_ptr_eq(rt_globrunqget(p, 0), &fakeg[0]);
	ck_assert_uint_eq(rt_runqlen(p), 10);
	ck_assert_int_eq(rt_sched.runqsize, 9);
	ck_assert_ptr_eq(rt_globrunqget(p, 1), &fakeg[11]);
	ck_assert_int_eq(rt_sched.runqsize, 8);
}
END_TEST

START_TEST(test_globrunq_woken_before_preempted)
{
	sched_setup(1);
	struct rt_p *p = &rt_sched.allp[0];
	/* preempted 0, 1; woken 2; preempted 3; woken batch 4, 5; woken 6 */
	rt_globrunqput_preempted(&fakeg[0]);
	rt_globrunqput_preempted(&fakeg[1]);
	rt_globrunqput(&fakeg[2]);
	rt_globrunqput_preempted(&fakeg[3]);
	fakeg[4].schedlink = &fakeg[5];
	rt_globrunqputbatch(&fakeg[4], &fakeg[5], 2);
	rt_globrunqput(&fakeg[6]);
	ck_assert_int_eq(rt_sched.runqsize, 7);
	/* order: the woken run FIFO, then the preempted run FIFO */
	int want[7] = {2, 4, 5, 6, 0, 1, 3};
	struct rt_g *g = rt_sched.runqhead;
	for (int i = 0; i < 7; i++, g = g->schedlink)
		ck_assert_ptr_eq(g, &fakeg[want[i]]);
	ck_assert_ptr_eq(g, NULL);
	ck_assert_ptr_eq(rt_sched.runqtail, &fakeg[3]);
	/* the fairness pick takes the oldest preempted G */
	ck_assert_ptr_eq(rt_globrunqget_preempted(), &fakeg[0]);
	ck_assert_int_eq(rt_sched.runqsize, 6);
	/* taking the woken run one by one ends it; then new woken Gs go
	 * to the head again, before the preempted 1 and 3 */
	for (int i = 0; i < 4; i++)
		ck_assert_ptr_eq(rt_globrunqget(p, 1), &fakeg[want[i]]);
	ck_assert_ptr_eq(rt_sched.runqwoken, NULL);
	rt_globrunqput(&fakeg[7]);
	ck_assert_ptr_eq(rt_globrunqget(p, 1), &fakeg[7]);
	ck_assert_ptr_eq(rt_globrunqget_preempted(), &fakeg[1]);
	ck_assert_ptr_eq(rt_globrunqget_preempted(), &fakeg[3]);
	ck_assert_ptr_eq(rt_globrunqget_preempted(), NULL);
	ck_assert_ptr_eq(rt_sched.runqhead, NULL);
	ck_assert_ptr_eq(rt_sched.runqtail, NULL);
	ck_assert_int_eq(rt_sched.runqsize, 0);
	/* a woken G into a queue of only preempted ones goes first */
	rt_globrunqput_preempted(&fakeg[8]);
	rt_globrunqput(&fakeg[9]);
	ck_assert_ptr_eq(rt_globrunqget(p, 1), &fakeg[9]);
	ck_assert_ptr_eq(rt_globrunqget(p, 1), &fakeg[8]);
	ck_assert_ptr_eq(rt_sched.runqtail, NULL);
}
END_TEST

/* ---- timers -------------------------------------------------------------- */

static int fired[64], nfired;
static void record(struct rt_timer *t) { fired[nfired++] = (int)(intptr_t)t->arg; }

START_TEST(test_timer_heap_order_and_delete)
{
	sched_setup(1);
	struct rt_p *p = &rt_sched.allp[0];
	static struct rt_timer t[40];
	int64_t whens[40];
	for (int i = 0; i < 40; i++) {
		whens[i] = 1000 + (i * 7919) % 40 * 10; /* a permutation */
		t[i] = (struct rt_timer){.when = whens[i], .f = record,
					 .arg = (void *)(intptr_t)i};
		rt_timer_add(p, &t[i]);
	}
	ck_assert_int_eq(rt_load(&p->timer0when), 1000);
	ck_assert(rt_timer_del(&t[3]));
	ck_assert(!rt_timer_del(&t[3]));
	nfired = 0;
	int64_t next = rt_timers_run(p, 1195); /* fires when <= 1195 */
	ck_assert_int_eq(next, 1200);
	for (int i = 1; i < nfired; i++)
		ck_assert_int_le(whens[fired[i - 1]], whens[fired[i]]);
	int expect = 20 - (whens[3] <= 1195);
	ck_assert_int_eq(nfired, expect);
	rt_timers_run(p, 1 << 30);
	ck_assert_int_eq(nfired, 39);
	ck_assert_int_eq(rt_load(&p->timer0when), 0);
	ck_assert(!rt_timer_del(&t[0])); /* fired timers are off the heap */
}
END_TEST

/* ---- sizes --------------------------------------------------------------- */

START_TEST(test_parse_size)
{
	ck_assert_uint_eq(rt_parse_size("4096"), 4096);
	ck_assert_uint_eq(rt_parse_size("256K"), 256 * 1024);
	ck_assert_uint_eq(rt_parse_size("256k"), 256 * 1024);
	ck_assert_uint_eq(rt_parse_size("8M"), 8 << 20);
	ck_assert_uint_eq(rt_parse_size("1G"), 1ul << 30);
	ck_assert_uint_eq(rt_parse_size("64KiB"), 0); /* not a format we take */
	ck_assert_uint_eq(rt_parse_size("12x"), 0);
	ck_assert_uint_eq(rt_parse_size(""), 0);
}
END_TEST

/* ---- TLS probe and stack slots ------------------------------------------ */

START_TEST(test_tls_probe)
{
	ck_assert_ptr_eq(rt_tls_probe(), NULL);
	ck_assert_uint_ge(rt_tls.tcb_size, 2000);
	ck_assert_uint_eq(rt_tls.static_align % 64, 0);
	ck_assert_int_eq(rt_tls.off_curg < 0, 1);
}
END_TEST

START_TEST(test_stack_layout_and_reuse)
{
	ck_assert_ptr_eq(rt_tls_probe(), NULL);
	rt_stack_init();
	int err = 0;
	struct rt_g *g = rt_stack_alloc(64 * 1024, 4096, &err);
	ck_assert_ptr_nonnull(g);
	ck_assert_uint_eq((uintptr_t)g->tp % 64, 0);
	/* as glibc: the asked size holds G + TCB + TLS at the top and the
	 * usable stack below, right above the guard */
	ck_assert_uint_eq(g->stk.size, 4096 + 64 * 1024);
	ck_assert_uint_eq(g->stk.lo, g->stk.base + 4096);
	ck_assert_uint_eq(g->stk.hi - g->stk.lo,
			  64 * 1024 - (g->stk.base + g->stk.size - g->stk.hi));
	ck_assert_uint_gt(g->stk.hi - g->stk.lo, 64 * 1024 - 8192);
	/* too small to hold TCB + TLS + 2 KiB of stack */
	ck_assert_ptr_null(rt_stack_alloc(4096, 4096, &err));
	ck_assert_int_eq(err, EINVAL);
	ck_assert_uint_gt((uintptr_t)g->tp, g->stk.hi);
	ck_assert_uint_lt((uintptr_t)g, g->stk.base + g->stk.size);
	/* the TCB's self pointers point at itself */
	ck_assert_ptr_eq(*(void **)g->tp, g->tp);
	ck_assert_ptr_eq(*(void **)((char *)g->tp + 16), g->tp);
	/* lookup from any address of the slot, guard reported */
	bool guard = false;
	ck_assert_ptr_eq(rt_stack_find(g->stk.lo + 100, &guard), g);
	ck_assert(!guard);
	ck_assert_ptr_eq(rt_stack_find(g->stk.base + 10, &guard), g);
	ck_assert(guard);
	/* the guard page really is PROT_NONE: /proc/self/maps says so */
	ck_assert_int_eq(g->stk.guard, 4096);
	ck_assert_str_eq(perms_at(g->stk.base), "---p");
	ck_assert_str_eq(perms_at(g->stk.lo), "rw-p");
	/* LIFO reuse: the slot just freed comes back first */
	uintptr_t base = g->stk.base;
	g->magic = RT_G_MAGIC;
	rt_stack_free(g);
	ck_assert_uint_eq(g->magic, 0);
	struct rt_g *g2 = rt_stack_alloc(64 * 1024, 4096, &err);
	ck_assert_uint_eq(g2->stk.base, base);
	/* another size is another class: another slot */
	struct rt_g *g3 = rt_stack_alloc(128 * 1024, 4096, &err);
	ck_assert_uint_ne(g3->stk.base, base);
	ck_assert_uint_eq(g3->stk.size, 4096 + 128 * 1024);
}
END_TEST

START_TEST(test_stack_user_memory)
{
	ck_assert_ptr_eq(rt_tls_probe(), NULL);
	rt_stack_init();
	size_t sz = 256 * 1024;
	char *mem = aligned_alloc(64, sz);
	int err = 0;
	struct rt_g *g = rt_stack_user(mem, sz, &err);
	ck_assert_ptr_nonnull(g);
	ck_assert_uint_eq(g->stk.lo, (uintptr_t)mem);
	ck_assert_uint_le((uintptr_t)g + sizeof *g, (uintptr_t)mem + sz);
	ck_assert(g->stk.user);
	ck_assert_ptr_eq(rt_stack_find((uintptr_t)mem + 1000, NULL), g);
	/* too small for TCB + TLS + a minimal stack */
	ck_assert_ptr_null(rt_stack_user(mem, 4096, &err));
	ck_assert_int_eq(err, EINVAL);
}
END_TEST

/* ---- the running scheduler ------------------------------------------------ */

static void *ret_arg_times_3(void *a) { return (void *)((intptr_t)a * 3); }

START_TEST(test_spawn_join_values)
{
	start_runtime("2");
	struct rt_g *gs[200];
	for (intptr_t i = 0; i < 200; i++)
		ck_assert_int_eq(rt_spawn(ret_arg_times_3, (void *)i, NULL, &gs[i]), 0);
	for (intptr_t i = 0; i < 200; i++) {
		void *r = NULL;
		ck_assert_int_eq(rt_join(gs[i], -1, &r), 0);
		ck_assert_int_eq((intptr_t)r, i * 3);
	}
	ck_assert_int_eq(rt_nlive(), 1);
}
END_TEST

static void *sleep_20ms(void *a)
{
	rt_sleep_until(rt_nanotime() + 20 * 1000000);
	return a;
}

START_TEST(test_join_errors)
{
	start_runtime("1");
	struct rt_g *g;
	ck_assert_int_eq(rt_spawn(sleep_20ms, (void *)7, NULL, &g), 0);
	ck_assert_int_eq(rt_join(rt_getg(), -1, NULL), EDEADLK);
	ck_assert_int_eq(rt_join(g, 0, NULL), EBUSY);
	ck_assert_int_eq(rt_join(g, rt_nanotime() + 1000000, NULL), ETIMEDOUT);
	void *r;
	ck_assert_int_eq(rt_join(g, -1, &r), 0);
	ck_assert_ptr_eq(r, (void *)7);
	struct rt_spawn_attr a = {.detached = true};
	ck_assert_int_eq(rt_spawn(sleep_20ms, NULL, &a, &g), 0);
	ck_assert_int_eq(rt_join(g, -1, NULL), EINVAL);
	ck_assert_int_eq(rt_detach(g), EINVAL);
}
END_TEST

static void *errno_worker(void *a)
{
	int *e = &errno;
	int mine = (int)(intptr_t)a;
	for (int i = 0; i < 50; i++) {
		errno = mine + i;
		rt_yield();
		rt_sleep_until(rt_nanotime() + 100000);
		if (*e != mine + i || e != &errno)
			return (void *)1;
	}
	return NULL;
}

START_TEST(test_errno_per_g)
{
	start_runtime("2");
	struct rt_g *gs[64];
	for (intptr_t i = 0; i < 64; i++)
		ck_assert_int_eq(rt_spawn(errno_worker, (void *)(i * 1000), NULL, &gs[i]), 0);
	for (int i = 0; i < 64; i++) {
		void *r;
		ck_assert_int_eq(rt_join(gs[i], -1, &r), 0);
		ck_assert_ptr_null(r);
	}
}
END_TEST

static uint32_t word;
static void *futex_waiter(void *a)
{
	return (void *)(intptr_t)rt_futex_wait(&word, 0, -1);
}

START_TEST(test_futex_wait_wake)
{
	start_runtime("2");
	ck_assert_int_eq(rt_futex_wait(&word, 1, -1), EAGAIN);
	ck_assert_int_eq(rt_futex_wait(&word, 0, rt_nanotime() + 2000000), ETIMEDOUT);
	struct rt_g *gs[5];
	for (int i = 0; i < 5; i++)
		ck_assert_int_eq(rt_spawn(futex_waiter, NULL, NULL, &gs[i]), 0);
	/* wake until all five were woken; each wake reports exactly those */
	int total = 0;
	for (int tries = 0; total < 5 && tries < 100000; tries++) {
		rt_yield();
		total += rt_futex_wake(&word, 2);
	}
	ck_assert_int_eq(total, 5);
	for (int i = 0; i < 5; i++) {
		void *r;
		ck_assert_int_eq(rt_join(gs[i], -1, &r), 0);
		ck_assert_int_eq((intptr_t)r, 0);
	}
	ck_assert_int_eq(rt_futex_wake(&word, 1), 0);
}
END_TEST

START_TEST(test_sleep_deadline)
{
	start_runtime("1");
	int64_t t0 = rt_nanotime();
	rt_sleep_until(t0 + 30 * 1000000);
	ck_assert_int_ge(rt_nanotime() - t0, 30 * 1000000);
}
END_TEST

static int hpipe[2];
static void *blocking_reader(void *a)
{
	char c = 0;
	rt_entersyscall();
	long r = read(hpipe[0], &c, 1); /* blocks the M, not the P */
	rt_exitsyscall();
	return (void *)(intptr_t)(r == 1 ? c : -1);
}
static void *writer(void *a)
{
	char c = 'x';
	return (void *)(intptr_t)write(hpipe[1], &c, 1);
}

/* One P: a G blocked in a system call must not stop the G that will
 * unblock it (sysmon hands the P to another M). */
START_TEST(test_syscall_handoff)
{
	start_runtime("1");
	ck_assert_int_eq(pipe(hpipe), 0);
	struct rt_g *r, *w;
	ck_assert_int_eq(rt_spawn(blocking_reader, NULL, NULL, &r), 0);
	rt_yield(); /* let the reader block first */
	ck_assert_int_eq(rt_spawn(writer, NULL, NULL, &w), 0);
	void *rv, *wv;
	ck_assert_int_eq(rt_join(r, -1, &rv), 0);
	ck_assert_int_eq(rt_join(w, -1, &wv), 0);
	ck_assert_int_eq((intptr_t)rv, 'x');
	ck_assert_int_eq((intptr_t)wv, 1);
	ck_assert_int_ge(rt_load(&rt_sched.nhandoff), 1);
}
END_TEST

Suite *runtime_suite(void)
{
	Suite *s = suite_create("runtime");
	TCase *q = tcase_create("runq");
	tcase_add_test(q, test_runq_fifo_and_runnext);
	tcase_add_test(q, test_runq_overflow_to_global);
	tcase_add_test(q, test_runq_steal_half);
	tcase_add_test(q, test_globrunqget_fair_share);
	tcase_add_test(q, test_globrunq_woken_before_preempted);
	suite_add_tcase(s, q);
	TCase *t = tcase_create("timer");
	tcase_add_test(t, test_timer_heap_order_and_delete);
	tcase_add_test(t, test_parse_size);
	suite_add_tcase(s, t);
	TCase *st = tcase_create("stack");
	tcase_add_test(st, test_tls_probe);
	tcase_add_test(st, test_stack_layout_and_reuse);
	tcase_add_test(st, test_stack_user_memory);
	suite_add_tcase(s, st);
	TCase *sc = tcase_create("sched");
	tcase_set_timeout(sc, 30);
	tcase_add_test(sc, test_spawn_join_values);
	tcase_add_test(sc, test_join_errors);
	tcase_add_test(sc, test_errno_per_g);
	tcase_add_test(sc, test_futex_wait_wake);
	tcase_add_test(sc, test_sleep_deadline);
	tcase_add_test(sc, test_syscall_handoff);
	suite_add_tcase(s, sc);
	return s;
}

Suite *diag_suite(void); /* test_diag.c */

int main(void)
{
	SRunner *sr = srunner_create(runtime_suite());
	srunner_add_suite(sr, diag_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
