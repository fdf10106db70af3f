// sync_cxx: C++ standard-library synchronisation on greenrun.
//
// Why: libstdc++ builds std::mutex, std::condition_variable and
// std::shared_mutex on pthread mutex / condvar / rwlock, and (GCC 11+)
// std::counting_semaphore, std::latch, std::barrier and
// std::atomic<T>::wait/notify on futexes called through syscall(SYS_futex)
// - all of which greenrun replaces.  C++ programs must keep working with
// exact results.  Needs C++20, hence the cflags directive (it comes after
// the runner's -std=c++17, and the last -std wins).
//
// Checks:
//   - std::mutex: 8 threads x 20,000 lock_guard increments -> 160,000;
//     try_lock on a mutex held by another thread -> false;
//   - std::condition_variable: ping-pong 20,000 round trips with exact turn
//     counts; wait_for(30 ms) with a predicate that never becomes true ->
//     false, after >= 30 ms (steady_clock); wait_until(system_clock + 30 ms)
//     -> std::cv_status::timeout, not early; notify_all wakes all 16
//     waiters (exact count; they wait with a 20 s bound);
//   - std::shared_mutex: 6 readers (shared_lock) x 20,000 and 2 writers
//     (unique_lock) x 5,000 with atomic in-critical-section counters
//     (readers see no writer, a writer sees nobody else) and a pair of
//     counters bumped by writers that readers see equal; final exact 10,000;
//     try_lock_shared while a writer holds it -> false;
//   - std::counting_semaphore<8> as a bounded buffer (empty 8 / full 0 + a
//     std::mutex): 4 producers x 10,000 items, 4 consumers; exact count
//     and sum; try_acquire_for(20 ms) on an empty semaphore -> false, not
//     early; std::binary_semaphore hand-off 10,000 times;
//   - std::latch(64): 64 threads count_down and wait; none passes before
//     all 64 arrived (exact arrival count seen after wait = 64);
//     arrive_and_wait variant too;
//   - std::barrier(16) with a completion function: 500 phases; the
//     completion runs exactly once per phase (500) and each thread sees the
//     phase number it expects after every arrive_and_wait;
//   - std::atomic<int>::wait / notify_one / notify_all with 64 threads:
//     64 waiters wait while the value is 0; notify_all after storing 1 ->
//     all 64 return (exact); a 64-thread relay: thread i waits until the
//     value is i, then stores i + 1 and notify_all, 10 laps -> final value
//     640 exactly; a notify_one hand-off between 2 threads 20,000 times.
// Every wait that could hang has a time bound or is covered by a
// SIGALRM watchdog (60 s) that reports the phase.
// greenrun-test: cflags=-std=c++20
// greenrun-test: env=GREENRUN_PROCS=1
// greenrun-test: env=GREENRUN_PROCS=2
// greenrun-test: timeout=120
#include <atomic>
#include <barrier>
#include <chrono>
#include <condition_variable>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <latch>
#include <mutex>
#include <semaphore>
#include <shared_mutex>
#include <thread>
#include <vector>

#include <signal.h>
#include <unistd.h>

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

[[noreturn]] __attribute__((format(printf, 1, 2))) static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    std::fprintf(stderr, "FAIL sync_cxx: ");
    std::vfprintf(stderr, fmt, ap);
    std::fputc('\n', stderr);
    va_end(ap);
    std::exit(1);
}

static volatile sig_atomic_t phase;
static const char *const phase_name[] = {
    "start", "std::mutex", "std::condition_variable", "std::shared_mutex",
    "std::counting_semaphore / binary_semaphore", "std::latch / std::barrier", "std::atomic wait/notify",
};
static void on_alarm(int)
{
    char buf[200];
    int n = std::snprintf(buf, sizeof buf, "FAIL sync_cxx: watchdog: stuck for 60 s in phase %d (%s)\n", (int)phase,
                          phase_name[phase]);
    (void)!write(2, buf, n);
    _exit(1);
}

static void join_all(std::vector<std::thread> &v)
{
    for (auto &t : v)
        t.join();
    v.clear();
}

/* Poll until pred() (30 s bound). */
template <class P> static void wait_until_true(P pred, const char *what)
{
    auto deadline = steady::now() + 30s;
    while (!pred()) {
        if (steady::now() > deadline)
            die("timed out (30 s) waiting for %s", what);
        std::this_thread::sleep_for(1ms);
    }
}

/* ---------------- std::mutex ---------------- */
static void test_mutex()
{
    std::mutex m;
    long counter = 0;
    std::vector<std::thread> v;
    for (int i = 0; i < 8; i++)
        v.emplace_back([&] {
            for (int k = 0; k < 20000; k++) {
                std::lock_guard<std::mutex> g(m);
                counter++;
                if ((k & 1023) == 0)
                    std::this_thread::yield();
            }
        });
    join_all(v);
    if (counter != 160000)
        die("std::mutex counter: expected 160000, got %ld", counter);
    std::atomic<bool> held{false}, release{false};
    std::thread h([&] {
        std::lock_guard<std::mutex> g(m);
        held = true;
        auto deadline = steady::now() + 30s;
        while (!release && steady::now() < deadline)
            std::this_thread::sleep_for(1ms);
    });
    wait_until_true([&] { return held.load(); }, "mutex holder");
    if (m.try_lock())
        die("std::mutex::try_lock on a mutex held by another thread returned true");
    release = true;
    h.join();
    if (!m.try_lock())
        die("std::mutex::try_lock on a free mutex returned false");
    m.unlock();
}

/* ---------------- std::condition_variable ---------------- */
static void test_condvar()
{
    std::mutex m;
    std::condition_variable cv;
    int turn = 0;
    long counts[2] = {0, 0};
    const int rounds = 20000;
    auto player = [&](int me) {
        for (int r = 0; r < rounds; r++) {
            std::unique_lock<std::mutex> lk(m);
            cv.wait(lk, [&] { return turn == me; });
            counts[me]++;
            turn = !me;
            cv.notify_one();
        }
    };
    std::thread a(player, 0), b(player, 1);
    a.join();
    b.join();
    if (counts[0] != rounds || counts[1] != rounds || turn != 0)
        die("condition_variable ping-pong: counts %ld/%ld turn %d, expected %d/%d turn 0", counts[0], counts[1],
            turn, rounds, rounds);

    {
        std::unique_lock<std::mutex> lk(m);
        auto t0 = steady::now();
        bool r = cv.wait_for(lk, 30ms, [] { return false; });
        auto el = steady::now() - t0;
        if (r)
            die("wait_for(30 ms, never-true predicate) returned true");
        if (el < 30ms)
            die("wait_for(30 ms) returned after only %lld us",
                (long long)std::chrono::duration_cast<std::chrono::microseconds>(el).count());
        auto dl = std::chrono::system_clock::now() + 30ms;
        std::cv_status st;
        do
            st = cv.wait_until(lk, dl);
        while (st == std::cv_status::no_timeout);   /* spurious wake-ups allowed */
        if (std::chrono::system_clock::now() < dl)
            die("wait_until(system_clock + 30 ms) returned timeout before the deadline");
    }

    const int nw = 16;
    int waiting = 0, woken = 0, timedout = 0;
    bool flag = false;
    std::vector<std::thread> v;
    for (int i = 0; i < nw; i++)
        v.emplace_back([&] {
            std::unique_lock<std::mutex> lk(m);
            waiting++;
            if (cv.wait_for(lk, 20s, [&] { return flag; }))
                woken++;
            else
                timedout++;
        });
    auto deadline = steady::now() + 30s;
    for (;;) {
        std::unique_lock<std::mutex> lk(m);
        if (waiting == nw) {
            flag = true;
            cv.notify_all();
            break;
        }
        lk.unlock();
        if (steady::now() > deadline)
            die("condvar waiters did not all arrive");
        std::this_thread::sleep_for(1ms);
    }
    join_all(v);
    if (woken != nw || timedout)
        die("notify_all: %d woken, %d timed out (20 s); expected %d and 0", woken, timedout, nw);
}

/* ---------------- std::shared_mutex ---------------- */
static void test_shared_mutex()
{
    std::shared_mutex sm;
    std::atomic<int> in_r{0}, in_w{0}, bad{0};
    long a = 0, b = 0;
    std::vector<std::thread> v;
    for (int i = 0; i < 6; i++)
        v.emplace_back([&] {
            for (int k = 0; k < 20000; k++) {
                std::shared_lock<std::shared_mutex> lk(sm);
                in_r++;
                if (in_w.load())
                    bad++;
                long x = a;
                if ((k & 63) == 0)
                    std::this_thread::yield();
                if (x != b || in_w.load())
                    bad++;
                in_r--;
            }
        });
    for (int i = 0; i < 2; i++)
        v.emplace_back([&] {
            for (int k = 0; k < 5000; k++) {
                std::unique_lock<std::shared_mutex> lk(sm);
                if (in_w++ != 0 || in_r.load() != 0)
                    bad++;
                a++;
                if ((k & 15) == 0)
                    std::this_thread::yield();
                b++;
                if (in_r.load() != 0)
                    bad++;
                in_w--;
            }
        });
    join_all(v);
    if (bad.load() || a != 10000 || b != 10000)
        die("shared_mutex: %d violations, a=%ld b=%ld (expected 0, 10000, 10000)", bad.load(), a, b);
    std::atomic<bool> held{false}, release{false};
    std::thread h([&] {
        std::unique_lock<std::shared_mutex> lk(sm);
        held = true;
        auto deadline = steady::now() + 30s;
        while (!release && steady::now() < deadline)
            std::this_thread::sleep_for(1ms);
    });
    wait_until_true([&] { return held.load(); }, "shared_mutex writer");
    if (sm.try_lock_shared())
        die("shared_mutex::try_lock_shared while a writer holds it returned true");
    if (sm.try_lock())
        die("shared_mutex::try_lock while a writer holds it returned true");
    release = true;
    h.join();
    if (!sm.try_lock_shared())
        die("shared_mutex::try_lock_shared on a free lock returned false");
    sm.unlock_shared();
}

/* ---------------- semaphores ---------------- */
static void test_semaphore()
{
    std::counting_semaphore<8> empty(8), full(0);
    std::mutex m;
    int buf[8], head = 0, tail = 0;
    long long sum = 0;
    long count = 0;
    const int per = 10000;
    std::vector<std::thread> v;
    for (int p = 0; p < 4; p++)
        v.emplace_back([&, p] {
            for (int k = 0; k < per; k++) {
                empty.acquire();
                {
                    std::lock_guard<std::mutex> g(m);
                    buf[tail] = p * per + k + 1;
                    tail = (tail + 1) % 8;
                }
                full.release();
            }
        });
    for (int c = 0; c < 4; c++)
        v.emplace_back([&] {
            for (int k = 0; k < per; k++) {
                full.acquire();
                {
                    std::lock_guard<std::mutex> g(m);
                    sum += buf[head];
                    head = (head + 1) % 8;
                    count++;
                }
                empty.release();
            }
        });
    join_all(v);
    long long n = 4LL * per;
    if (count != n || sum != n * (n + 1) / 2)
        die("counting_semaphore buffer: count %ld sum %lld, expected %lld and %lld", count, sum, n, n * (n + 1) / 2);
    if (full.try_acquire())
        die("counting_semaphore: try_acquire on an empty semaphore returned true");
    auto t0 = steady::now();
    if (full.try_acquire_for(20ms))
        die("counting_semaphore: try_acquire_for(20 ms) on an empty semaphore returned true");
    if (steady::now() - t0 < 20ms)
        die("counting_semaphore: try_acquire_for(20 ms) gave up early");
    for (int i = 0; i < 8; i++)
        if (!empty.try_acquire())
            die("counting_semaphore: empty had fewer than 8 units at the end (%d)", i);
    if (empty.try_acquire())
        die("counting_semaphore: empty had more than 8 units at the end");

    std::binary_semaphore ping(0), pong(0);
    long pings = 0, pongs = 0;
    std::thread a([&] {
        for (int i = 0; i < 10000; i++) {
            ping.release();
            pong.acquire();
            pings++;
        }
    });
    std::thread b([&] {
        for (int i = 0; i < 10000; i++) {
            ping.acquire();
            pongs++;
            pong.release();
        }
    });
    a.join();
    b.join();
    if (pings != 10000 || pongs != 10000)
        die("binary_semaphore hand-off: %ld/%ld, expected 10000/10000", pings, pongs);
}

/* ---------------- latch / barrier ---------------- */
static void test_latch_barrier()
{
    const int n = 64;
    std::latch l(n), l2(n);
    std::atomic<int> arrived{0}, bad{0};
    std::vector<std::thread> v;
    for (int i = 0; i < n; i++)
        v.emplace_back([&, i] {
            arrived++;
            if (i & 1) {
                l.count_down();
                l.wait();
            } else {
                l.arrive_and_wait();
            }
            if (arrived.load() != n)
                bad++;
            l2.arrive_and_wait();
        });
    join_all(v);
    if (bad.load())
        die("std::latch: %d threads passed the latch before all %d arrived", bad.load(), n);
    if (!l.try_wait())
        die("std::latch: try_wait after all arrived returned false");

    const int nb = 16, phases = 500;
    std::atomic<int> completions{0};
    int phase_no = 0;       /* written only by the completion function */
    auto on_complete = [&]() noexcept {
        completions++;
        phase_no++;
    };
    std::barrier bar(nb, on_complete);
    for (int i = 0; i < nb; i++)
        v.emplace_back([&] {
            for (int p = 0; p < phases; p++) {
                bar.arrive_and_wait();
                if (phase_no != p + 1)
                    bad++;
            }
        });
    join_all(v);
    if (bad.load() || completions.load() != phases || phase_no != phases)
        die("std::barrier: %d bad phase observations, %d completions (expected 0 and %d)", bad.load(),
            completions.load(), phases);
}

/* ---------------- atomic wait / notify ---------------- */
static void test_atomic_wait()
{
    const int n = 64;
    std::atomic<int> val{0}, ready{0}, returned{0};
    std::vector<std::thread> v;
    for (int i = 0; i < n; i++)
        v.emplace_back([&] {
            ready++;
            val.wait(0);
            returned++;
        });
    wait_until_true([&] { return ready.load() == n; }, "atomic waiters");
    val.store(1);
    val.notify_all();
    join_all(v);
    if (returned.load() != n)
        die("atomic::notify_all: %d of %d waiters returned", returned.load(), n);

    /* relay: thread i waits for value (lap * n + i), then increments */
    std::atomic<int> relay{0};
    const int laps = 10;
    for (int i = 0; i < n; i++)
        v.emplace_back([&, i] {
            for (int lap = 0; lap < laps; lap++) {
                int want = lap * n + i;
                int cur;
                while ((cur = relay.load()) != want) {
                    if (cur > want)
                        die("atomic relay: value %d passed %d", cur, want);
                    relay.wait(cur);
                }
                relay.store(want + 1);
                relay.notify_all();
            }
        });
    join_all(v);
    if (relay.load() != n * laps)
        die("atomic relay: final value %d, expected %d", relay.load(), n * laps);

    /* notify_one hand-off */
    std::atomic<int> turn{0};
    long c[2] = {0, 0};
    auto player = [&](int me) {
        for (int r = 0; r < 20000; r++) {
            int cur;
            while ((cur = turn.load()) != me)
                turn.wait(cur);
            c[me]++;
            turn.store(!me);
            turn.notify_one();
        }
    };
    std::thread a(player, 0), b(player, 1);
    a.join();
    b.join();
    if (c[0] != 20000 || c[1] != 20000)
        die("atomic notify_one hand-off: %ld/%ld, expected 20000/20000", c[0], c[1]);
}

int main()
{
    signal(SIGALRM, on_alarm);
    alarm(60);
    phase = 1;
    test_mutex();
    phase = 2;
    test_condvar();
    phase = 3;
    test_shared_mutex();
    phase = 4;
    test_semaphore();
    phase = 5;
    test_latch_barrier();
    phase = 6;
    test_atomic_wait();
    alarm(0);
    std::printf("sync_cxx: OK\n");
    return 0;
}
