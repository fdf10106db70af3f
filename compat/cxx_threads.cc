// cxx_threads.cc - a plain C++20 threading program for compat/cxx_threads.sh.
//
//   cxx_threads [SCALE]      (SCALE defaults to 1; work grows linearly)
//
// It knows nothing of greenrun: it uses the standard library's threads the
// way ordinary C++ code does, and checks every result exactly.  Each part
// prints one "ok <part>: <figure>" line or "FAIL <part>: <why>" lines; the
// exit status is 0 only when every part passed.  The last line is
// "total: <threads> threads, <exceptions> exceptions across threads".
//
// Parts (N = 1000 * SCALE):
//   thread_local   N std::threads; each has a thread_local object with a
//                  non-trivial constructor/destructor and a thread_local
//                  counter it bumps around yields and sleeps; the counter
//                  must end at exactly its own count, every constructor must
//                  be matched by one destructor by the time join returns.
//   async          N std::async(std::launch::async) tasks computing a
//                  known function; one in seven throws std::runtime_error
//                  carrying its index, which future.get() must rethrow in
//                  main with the same message; exact sum of the others.
//   exception_ptr  N threads throw from nested frames, catch with
//                  std::current_exception() into a slot; main rethrows each
//                  with std::rethrow_exception and checks type and message
//                  (a custom exception type, a std::system_error, an int).
//   promise        a pipeline of 64 threads connected by std::promise /
//                  std::future, passing a value that each stage transforms;
//                  then set_exception propagates through the whole pipeline.
//   condvar        4 producers / 4 consumers over a bounded queue guarded by
//                  std::mutex + std::condition_variable; every item is
//                  consumed exactly once (sum and count exact).
//   shared_mutex   readers under std::shared_lock check an invariant that
//                  writers under std::unique_lock keep; exact write count.
//   cxx20          std::jthread + std::stop_token (stop requested, callback
//                  run), std::latch, std::barrier with a completion function
//                  (exact phase count), std::counting_semaphore bounding the
//                  number of threads inside (never more than 3), and
//                  std::atomic<int>::wait / notify_all.
//   many           10 * N threads alive at once, all blocked on one
//                  std::shared_future; then released, each returns its index
//                  through a std::packaged_task's future.
#include <atomic>
#include <barrier>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <exception>
#include <future>
#include <latch>
#include <mutex>
#include <semaphore>
#include <shared_mutex>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

static int failures;
static long total_threads;
static long total_exceptions;

// fail: report one failed check of PART.
static void fail(const char *part, const std::string &why)
{
	std::printf("FAIL %s: %s\n", part, why.c_str());
	failures++;
}

// expect: fail PART unless GOT == WANT.
static bool expect(const char *part, const char *what, long long got, long long want)
{
	if (got == want)
		return true;
	fail(part, std::string(what) + ": got " + std::to_string(got) + ", want " +
			   std::to_string(want));
	return false;
}

// ---- thread_local ------------------------------------------------------
static std::atomic<long> tl_ctors, tl_dtors;

struct Tracked {
	long id;
	std::string name;
	Tracked() : id(tl_ctors.fetch_add(1) + 1), name("tracked-" + std::to_string(id)) {}
	~Tracked() { tl_dtors.fetch_add(1); }
};

thread_local Tracked tl_obj;
thread_local long tl_count;

static void part_thread_local(int n)
{
	const char *P = "thread_local";
	long base_ctors = tl_ctors.load(), base_dtors = tl_dtors.load();
	std::vector<long> got(n, -1), ids(n, 0);
	std::vector<std::thread> ts;
	for (int i = 0; i < n; i++)
		ts.emplace_back([i, &got, &ids] {
			long want = 50 + i % 50;
			const Tracked *self = &tl_obj;
			ids[i] = self->id;
			for (long k = 0; k < want; k++) {
				tl_count++;
				if (k % 10 == 0)
					std::this_thread::yield();
				if (k % 25 == 0)
					std::this_thread::sleep_for(100us);
				if (&tl_obj != self) // the same object on every line
					tl_count = -1000000;
			}
			got[i] = tl_count;
		});
	for (auto &t : ts)
		t.join();
	total_threads += n;
	int bad = 0;
	for (int i = 0; i < n; i++)
		if (got[i] != 50 + i % 50 && bad++ < 5)
			fail(P, "thread " + std::to_string(i) + " counted " + std::to_string(got[i]));
	std::vector<char> seen(n + 1, 0);
	for (int i = 0; i < n; i++) {
		long id = ids[i] - base_ctors;
		if (id < 1 || id > n || seen[id]++)
			bad++;
	}
	bool ok = bad == 0;
	ok &= expect(P, "constructors", tl_ctors.load() - base_ctors, n);
	ok &= expect(P, "destructors after join", tl_dtors.load() - base_dtors, n);
	if (ok)
		std::printf("ok thread_local: %d threads, %d ctors = dtors\n", n, n);
}

// ---- async ---------------------------------------------------------------
static long async_value(int i)
{
	return (long)i * i % 1009 + 1;
}

static void part_async(int n)
{
	const char *P = "async";
	std::vector<std::future<long>> fs;
	for (int i = 0; i < n; i++)
		fs.push_back(std::async(std::launch::async, [i] {
			std::this_thread::sleep_for(std::chrono::microseconds(i % 200));
			if (i % 7 == 3)
				throw std::runtime_error("async task " + std::to_string(i));
			return async_value(i);
		}));
	long sum = 0, want_sum = 0, thrown = 0, want_thrown = 0;
	bool ok = true;
	for (int i = 0; i < n; i++) {
		if (i % 7 == 3)
			want_thrown++;
		else
			want_sum += async_value(i);
		try {
			sum += fs[i].get();
		} catch (const std::runtime_error &e) {
			thrown++;
			if (e.what() != "async task " + std::to_string(i)) {
				fail(P, std::string("wrong message: ") + e.what());
				ok = false;
			}
		}
	}
	total_threads += n;
	total_exceptions += thrown;
	ok &= expect(P, "sum", sum, want_sum);
	ok &= expect(P, "rethrown by get()", thrown, want_thrown);
	if (ok)
		std::printf("ok async: %d tasks, %ld rethrown by future.get()\n", n, thrown);
}

// ---- exception_ptr -------------------------------------------------------
struct Oops {
	int code;
	std::string where;
};

[[gnu::noinline]] static void thrower3(int i)
{
	std::this_thread::yield();
	switch (i % 3) {
	case 0: throw Oops{i, "deep"};
	case 1: throw std::system_error(std::make_error_code(std::errc::timed_out),
					"thread " + std::to_string(i));
	default: throw i;
	}
}

[[gnu::noinline]] static void thrower2(int i)
{
	std::string guard = "frame " + std::to_string(i); // destroyed by the unwind
	std::this_thread::sleep_for(50us);
	thrower3(i);
}

static void part_exception_ptr(int n)
{
	const char *P = "exception_ptr";
	std::vector<std::exception_ptr> slots(n);
	std::vector<std::thread> ts;
	for (int i = 0; i < n; i++)
		ts.emplace_back([i, &slots] {
			try {
				thrower2(i);
			} catch (...) {
				slots[i] = std::current_exception();
			}
		});
	for (auto &t : ts)
		t.join();
	total_threads += n;
	int bad = 0;
	for (int i = 0; i < n; i++) {
		int kind = -1;
		try {
			if (!slots[i]) {
				bad++;
				continue;
			}
			std::rethrow_exception(slots[i]);
		} catch (const Oops &e) {
			kind = (e.code == i && e.where == "deep") ? 0 : -2;
		} catch (const std::system_error &e) {
			kind = (e.code() == std::errc::timed_out &&
				std::string(e.what()).rfind("thread " + std::to_string(i) + ":", 0) == 0)
				       ? 1 : -2;
		} catch (int v) {
			kind = v == i ? 2 : -2;
		}
		if (kind != i % 3 && bad++ < 5)
			fail(P, "slot " + std::to_string(i) + " holds the wrong exception");
	}
	total_exceptions += n;
	if (bad == 0)
		std::printf("ok exception_ptr: %d exceptions rethrown in main\n", n);
}

// ---- promise pipeline ----------------------------------------------------
static void part_promise()
{
	const char *P = "promise";
	const int stages = 64;
	for (int round = 0; round < 2; round++) {
		std::vector<std::promise<long>> ps(stages + 1);
		std::vector<std::future<long>> fs;
		for (auto &p : ps)
			fs.push_back(p.get_future());
		std::vector<std::thread> ts;
		for (int s = 0; s < stages; s++)
			ts.emplace_back([s, &fs, &ps] {
				try {
					long v = fs[s].get();
					ps[s + 1].set_value(v * 3 % 1000003 + s);
				} catch (...) {
					ps[s + 1].set_exception(std::current_exception());
				}
			});
		if (round == 0)
			ps[0].set_value(1);
		else
			ps[0].set_exception(std::make_exception_ptr(std::out_of_range("stage 0")));
		long want = 1;
		for (int s = 0; s < stages; s++)
			want = want * 3 % 1000003 + s;
		try {
			long got = fs[stages].get();
			if (round == 0)
				expect(P, "pipeline value", got, want);
			else
				fail(P, "exception did not cross the pipeline");
		} catch (const std::out_of_range &e) {
			if (round == 0 || std::string(e.what()) != "stage 0")
				fail(P, std::string("unexpected exception: ") + e.what());
			else
				total_exceptions += stages;
		}
		for (auto &t : ts)
			t.join();
		total_threads += stages;
	}
	std::printf("ok promise: 2 pipelines of %d threads (value, exception)\n", stages);
}

// ---- condvar queue -------------------------------------------------------
static void part_condvar(int n)
{
	const char *P = "condvar";
	const int producers = 4, consumers = 4, cap = 16;
	const long per = 25L * n;
	std::mutex mu;
	std::condition_variable not_full, not_empty;
	std::deque<long> q;
	int producers_left = producers;
	std::atomic<long> sum{0}, count{0};
	std::vector<std::thread> ts;
	for (int p = 0; p < producers; p++)
		ts.emplace_back([&, p] {
			for (long k = 0; k < per; k++) {
				std::unique_lock<std::mutex> lk(mu);
				not_full.wait(lk, [&] { return (int)q.size() < cap; });
				q.push_back(p * per + k);
				not_empty.notify_one();
			}
			std::lock_guard<std::mutex> lk(mu);
			if (--producers_left == 0)
				not_empty.notify_all();
		});
	for (int c = 0; c < consumers; c++)
		ts.emplace_back([&] {
			for (;;) {
				std::unique_lock<std::mutex> lk(mu);
				not_empty.wait(lk, [&] { return !q.empty() || producers_left == 0; });
				if (q.empty())
					return;
				long v = q.front();
				q.pop_front();
				not_full.notify_one();
				lk.unlock();
				sum += v;
				count++;
			}
		});
	for (auto &t : ts)
		t.join();
	total_threads += producers + consumers;
	long items = producers * per;
	bool ok = expect(P, "items", count.load(), items);
	ok &= expect(P, "sum", sum.load(), items * (items - 1) / 2);
	if (ok)
		std::printf("ok condvar: %ld items through a %d-slot queue\n", items, cap);
}

// ---- shared_mutex --------------------------------------------------------
static void part_shared_mutex(int n)
{
	const char *P = "shared_mutex";
	std::shared_mutex rw;
	long a = 0, b = 0; // invariant: a + b == 0
	std::atomic<long> broken{0}, reads{0};
	const int writers = 4, readers = 16, writes = n;
	std::vector<std::thread> ts;
	for (int w = 0; w < writers; w++)
		ts.emplace_back([&] {
			for (int k = 0; k < writes; k++) {
				std::unique_lock<std::shared_mutex> lk(rw);
				a++;
				if (k % 64 == 0)
					std::this_thread::yield(); // hold the lock across a switch
				b--;
			}
		});
	for (int r = 0; r < readers; r++)
		ts.emplace_back([&] {
			for (int k = 0; k < writes; k++) {
				std::shared_lock<std::shared_mutex> lk(rw);
				if (a + b != 0)
					broken++;
				reads++;
			}
		});
	for (auto &t : ts)
		t.join();
	total_threads += writers + readers;
	bool ok = expect(P, "invariant violations", broken.load(), 0);
	ok &= expect(P, "writes", a, (long)writers * writes);
	ok &= expect(P, "reads", reads.load(), (long)readers * writes);
	if (ok)
		std::printf("ok shared_mutex: %ld writes, %ld reads\n", a, reads.load());
}

// ---- C++20 ---------------------------------------------------------------
static void part_cxx20(int n)
{
	const char *P = "cxx20";
	bool ok = true;

	// jthread + stop_token: workers spin on sleep until asked to stop.
	std::atomic<int> callbacks{0}, stopped{0};
	{
		std::vector<std::jthread> js;
		for (int i = 0; i < 32; i++)
			js.emplace_back([&](std::stop_token st) {
				std::stop_callback cb(st, [&] { callbacks++; });
				while (!st.stop_requested())
					std::this_thread::sleep_for(200us);
				stopped++;
			});
		std::this_thread::sleep_for(2ms);
	} // ~jthread: request_stop + join
	ok &= expect(P, "jthreads stopped", stopped.load(), 32);
	ok &= expect(P, "stop callbacks", callbacks.load(), 32);

	// latch + barrier with a completion function.
	const int parties = 16, phases = n / 10;
	std::atomic<int> completions{0};
	std::latch ready(parties);
	std::atomic<long> phase_sum{0};
	std::barrier bar(parties, [&]() noexcept { completions++; });
	{
		std::vector<std::jthread> js;
		for (int i = 0; i < parties; i++)
			js.emplace_back([&, i] {
				ready.arrive_and_wait();
				for (int ph = 0; ph < phases; ph++) {
					phase_sum += i;
					bar.arrive_and_wait();
				}
			});
	}
	ok &= expect(P, "barrier completions", completions.load(), phases);
	ok &= expect(P, "barrier work", phase_sum.load(), (long)phases * parties * (parties - 1) / 2);

	// counting_semaphore: at most 3 inside at once.
	std::counting_semaphore<3> sem(3);
	std::atomic<int> inside{0}, max_inside{0}, entries{0};
	{
		std::vector<std::jthread> js;
		for (int i = 0; i < 64; i++)
			js.emplace_back([&] {
				for (int k = 0; k < 20; k++) {
					sem.acquire();
					int now = ++inside;
					int m = max_inside.load();
					while (now > m && !max_inside.compare_exchange_weak(m, now))
						;
					std::this_thread::yield();
					entries++;
					--inside;
					sem.release();
				}
			});
	}
	ok &= expect(P, "semaphore entries", entries.load(), 64 * 20);
	if (max_inside.load() > 3 || max_inside.load() < 1) {
		fail(P, "semaphore let " + std::to_string(max_inside.load()) + " in");
		ok = false;
	}

	// atomic wait / notify: a relay of 32 threads.
	std::atomic<int> token{0};
	{
		std::vector<std::jthread> js;
		for (int i = 0; i < 32; i++)
			js.emplace_back([&, i] {
				for (int round = 0; round < 20; round++) {
					int want = round * 32 + i;
					for (int v = token.load(); v != want; v = token.load())
						token.wait(v);
					token.store(want + 1);
					token.notify_all();
				}
			});
	}
	ok &= expect(P, "atomic relay", token.load(), 32 * 20);
	total_threads += 32 + parties + 64 + 32;
	if (ok)
		std::printf("ok cxx20: jthread/stop_token, latch, barrier x%d, semaphore<=3, atomic wait\n",
			    phases);
}

// ---- many threads at once ------------------------------------------------
static void part_many(int n)
{
	const char *P = "many";
	const int m = 10 * n;
	std::promise<void> go;
	std::shared_future<void> gate = go.get_future().share();
	std::atomic<int> waiting{0};
	std::vector<std::future<int>> results;
	std::vector<std::thread> ts;
	results.reserve(m);
	ts.reserve(m);
	for (int i = 0; i < m; i++) {
		std::packaged_task<int()> task([i, gate, &waiting] {
			waiting++;
			gate.wait();
			return i;
		});
		results.push_back(task.get_future());
		ts.emplace_back(std::move(task));
	}
	while (waiting.load() < m)
		std::this_thread::sleep_for(1ms);
	go.set_value();
	long sum = 0;
	for (auto &f : results)
		sum += f.get();
	for (auto &t : ts)
		t.join();
	total_threads += m;
	if (expect(P, "sum of results", sum, (long)m * (m - 1) / 2))
		std::printf("ok many: %d threads alive at once, all results exact\n", m);
}

int main(int argc, char **argv)
{
	int scale = argc > 1 ? std::atoi(argv[1]) : 1;
	if (scale < 1)
		scale = 1;
	int n = 1000 * scale;
	std::setvbuf(stdout, nullptr, _IOLBF, 0);
	part_thread_local(n);
	part_async(n);
	part_exception_ptr(n);
	part_promise();
	part_condvar(n);
	part_shared_mutex(n);
	part_cxx20(n);
	part_many(n);
	std::printf("total: %ld threads, %ld exceptions across threads\n", total_threads,
		    total_exceptions);
	if (failures)
		std::printf("%d checks FAILED\n", failures);
	return failures ? 1 : 0;
}
