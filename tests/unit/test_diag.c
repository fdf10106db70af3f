/*
 * test_diag.c - Check unit tests of the diagnostics (runtime/dump.c,
 * traceback.c), linked statically with the runtime running (rt_init in
 * each forked test).
 *
 * Covered: a dump groups Gs parked at the same place with the same reason
 * into one entry with a count and names the parking function; Gs parked
 * through different functions get different stacks; the known-chain
 * shortcut gives exactly libunwind's answer; a G that never ran has no
 * stack; wait reasons have names.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomic.h"
#include "diag.h"
#include "internal.h"

static int os_thread_create2(void *(*fn)(void *), void *arg, size_t stack)
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

static void start(void)
{
	setenv("GREENRUN_PROCS", "2", 1);
	rt_os.thread_create = os_thread_create2;
	const char *e = rt_init();
	ck_assert_msg(e == NULL, "rt_init: %s", e ? e : "");
}

static uint32_t word_a, word_b;
static int32_t parked;

__attribute__((noinline)) static void *park_on_cond(void *arg)
{
	rt_xadd(&parked, 1);
	while (rt_load(&word_a) == 0)
		rt_futex_wait_why(&word_a, 0, -1, WAIT_COND);
	__asm__ volatile("" ::: "memory"); /* not a tail call */
	return arg;
}

__attribute__((noinline)) static void *park_on_mutex(void *arg)
{
	rt_xadd(&parked, 1);
	while (rt_load(&word_b) == 0)
		rt_futex_wait_why(&word_b, 0, -1, WAIT_MUTEX);
	__asm__ volatile("" ::: "memory");
	return arg;
}

/* Dump into a temporary file and return its text (static buffer). */
static const char *dump_text(void)
{
	static char buf[1 << 16];
	FILE *f = tmpfile();
	ck_assert_ptr_nonnull(f);
	rt_dump(fileno(f), DUMP_REQUEST, NULL);
	rewind(f);
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = 0;
	fclose(f);
	return buf;
}

static void wait_parked(int n)
{
	while (rt_load(&parked) < n)
		rt_sleep_until(rt_nanotime() + 1000000);
	/* parked counts before the park itself: let them get there */
	for (int i = 0; i < 20; i++)
		rt_yield();
}

START_TEST(test_dump_groups_by_stack_and_reason)
{
	start();
	struct rt_g *g[25];
	for (int i = 0; i < 20; i++)
		ck_assert_int_eq(rt_spawn(park_on_cond, NULL, NULL, &g[i]), 0);
	for (int i = 20; i < 25; i++)
		ck_assert_int_eq(rt_spawn(park_on_mutex, NULL, NULL, &g[i]), 0);
	wait_parked(25);
	const char *d = dump_text();
	ck_assert_msg(strstr(d, "\n20 threads (ids 2..21") != NULL, "%s", d);
	ck_assert_msg(strstr(d, "): cond, waiting ") != NULL, "%s", d);
	ck_assert_msg(strstr(d, "\n5 threads (ids 22..26") != NULL, "%s", d);
	ck_assert_msg(strstr(d, "): mutex, waiting ") != NULL, "%s", d);
	/* (linked into one executable, every frame counts as greenrun's and
	 * is trimmed from the printed stacks: names are checked below) */
	ck_assert_msg(strstr(d, "greenrun: pid ") != NULL, "%s", d);
	ck_assert_msg(strstr(d, ", 26 threads (3 groups)") != NULL, "%s", d);
	rt_store(&word_a, 1u);
	rt_futex_wake(&word_a, 100);
	rt_store(&word_b, 1u);
	rt_futex_wake(&word_b, 100);
	for (int i = 0; i < 25; i++)
		ck_assert_int_eq(rt_join(g[i], -1, NULL), 0);
}
END_TEST

START_TEST(test_traceback_chain_matches_libunwind)
{
	start();
	struct rt_g *g[3];
	ck_assert_int_eq(rt_spawn(park_on_cond, NULL, NULL, &g[0]), 0);
	ck_assert_int_eq(rt_spawn(park_on_cond, NULL, NULL, &g[1]), 0);
	ck_assert_int_eq(rt_spawn(park_on_mutex, NULL, NULL, &g[2]), 0);
	wait_parked(3);
	uintptr_t a[RT_TB_FRAMES], b[RT_TB_FRAMES], c[RT_TB_FRAMES];
	uint8_t fa = 0, fb = 0, fc = 0;
	/* the first walk is libunwind's and is remembered; the second of
	 * the same G is answered from the known chain: identical */
	int na = rt_traceback_saved(g[0], g[0]->ctx.rsp, a, &fa);
	int nb = rt_traceback_saved(g[0], g[0]->ctx.rsp, b, &fb);
	ck_assert_int_gt(na, 2);
	ck_assert_int_eq(na, nb);
	ck_assert_mem_eq(a, b, (size_t)na * sizeof *a);
	/* another G parked by the same function: the same frames above the
	 * scheduler's own switch site (which may differ: direct or via g0) */
	nb = rt_traceback_saved(g[1], g[1]->ctx.rsp, b, &fb);
	ck_assert_int_eq(na, nb);
	ck_assert_mem_eq(a + 1, b + 1, (size_t)(na - 1) * sizeof *a);
	int nc = rt_traceback_saved(g[2], g[2]->ctx.rsp, c, &fc);
	ck_assert_int_eq(fa | fb | fc, 0);
	ck_assert_msg(nc != na || memcmp(a + 1, c + 1, (size_t)(na - 1) * sizeof *a) != 0,
		      "different parking functions gave the same stack");
	/* and the frames name the functions */
	struct rt_sym s;
	bool found = false;
	for (int i = 0; i < na; i++) {
		rt_symbolize(a[i], &s);
		found |= strcmp(s.name, "park_on_cond") == 0;
	}
	ck_assert_msg(found, "park_on_cond not on the stack");
	rt_store(&word_a, 1u);
	rt_futex_wake(&word_a, 100);
	rt_store(&word_b, 1u);
	rt_futex_wake(&word_b, 100);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(rt_join(g[i], -1, NULL), 0);
}
END_TEST

static void *nothing(void *a) { return a; }

START_TEST(test_traceback_new_g)
{
	start();
	struct rt_g *g;
	/* spawned but not yet run: the creator has not yielded */
	ck_assert_int_eq(rt_spawn(nothing, NULL, NULL, &g), 0);
	uintptr_t ips[RT_TB_FRAMES];
	uint8_t f = 0;
	ck_assert_int_eq(rt_traceback_saved(g, g->ctx.rsp, ips, &f), 0);
	ck_assert_int_eq(f, RT_TB_NEW);
	ck_assert_int_eq(rt_join(g, -1, NULL), 0);
}
END_TEST

START_TEST(test_waitreason_names)
{
	ck_assert_str_eq(rt_waitreason_name(WAIT_MUTEX), "mutex");
	ck_assert_str_eq(rt_waitreason_name(WAIT_COND), "cond");
	ck_assert_str_eq(rt_waitreason_name(WAIT_IO), "IO wait");
	ck_assert_str_eq(rt_waitreason_name(WAIT_SEM), "semaphore");
	ck_assert_str_eq(rt_waitreason_name(WAIT_JOIN), "join");
	ck_assert_str_eq(rt_waitreason_name(WAIT_SLEEP), "sleep");
}
END_TEST

Suite *diag_suite(void)
{
	Suite *s = suite_create("diag");
	TCase *t = tcase_create("dump");
	tcase_set_timeout(t, 30);
	tcase_add_test(t, test_dump_groups_by_stack_and_reason);
	tcase_add_test(t, test_traceback_chain_matches_libunwind);
	tcase_add_test(t, test_traceback_new_g);
	tcase_add_test(t, test_waitreason_names);
	suite_add_tcase(s, t);
	return s;
}
