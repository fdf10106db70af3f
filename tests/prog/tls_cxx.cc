// tls_cxx: C++ thread_local objects with constructors and destructors, in
// threads that migrate between OS threads.
//
// Why: a thread_local with a non-trivial destructor is registered with
// __cxa_thread_atexit_impl on first use and destroyed by glibc when the
// thread exits (__call_tls_dtors).  Under greenrun a thread's exit path is
// the runtime's, so it must still run these destructors, exactly once, for
// the exiting green thread only, with that thread's own object; and the
// objects (including std::string / std::vector with heap storage) must keep
// their content across sleeps and yields that can move the thread.
//
// Phase 1: 500 threads created with pthread_create; phase 2: 500 std::thread.
// Each thread touches the thread_local Tracked object (constructor bumps a
// global atomic), fills thread_local std::string / std::vector with
// thread-specific content, sleeps 1 ms and yields a few times, then checks
// everything (object identity via `this`, contents) and exits.  After
// joining: constructors == destructors == 500 (then 1000) exactly, each
// destructor saw its own thread's id and the object it was constructed as.
// Main never touches the thread_locals, so its destructor (at exit) does not
// count.
#include <atomic>
#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <pthread.h>
#include <string>
#include <thread>
#include <vector>

static std::atomic<int> ctors{0}, dtors{0}, bad_dtors{0};
static const int N = 500;
static const int ROUNDS = 5;

__attribute__((format(printf, 1, 2), noreturn))
static void fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    std::fprintf(stderr, "FAIL tls_cxx: ");
    std::vfprintf(stderr, fmt, ap);
    std::fputc('\n', stderr);
    va_end(ap);
    std::exit(1);
}

struct Tracked {
    int owner;          // thread index that constructed it (-1 until set)
    const Tracked *self;
    long magic;
    Tracked() : owner(-1), self(this), magic(0x7A11EDL) { ctors.fetch_add(1); }
    ~Tracked() {
        if (self != this || magic != 0x7A11EDL || owner < 0)
            bad_dtors.fetch_add(1);
        seen_dtor[owner < 0 ? 0 : owner].fetch_add(1);
        magic = 0;
        dtors.fetch_add(1);
    }
    static std::atomic<int> seen_dtor[2 * N];
};
std::atomic<int> Tracked::seen_dtor[2 * N];

static thread_local Tracked tracked;
static thread_local std::string tl_str;
static thread_local std::vector<int> tl_vec;
static thread_local int tl_plain = 77;

static std::string expected_str(int idx)
{
    // Long enough to live on the heap, not in the small-string buffer.
    std::string s = "thread-local string of thread #" + std::to_string(idx) + ":";
    for (int i = 0; i < 10; i++)
        s += std::to_string(idx * 31 + i);
    return s;
}

static void body(int idx)
{
    if (tl_plain != 77)
        fail("thread %d: fresh thread_local int expected 77, got %d", idx, tl_plain);
    if (!tl_str.empty() || !tl_vec.empty())
        fail("thread %d: fresh thread_local string/vector not empty (sizes %zu, %zu)", idx,
             tl_str.size(), tl_vec.size());
    Tracked *t = &tracked;              // first use: constructs
    if (t->owner != -1)
        fail("thread %d: fresh thread_local Tracked already owned by %d", idx, t->owner);
    t->owner = idx;
    tl_plain = idx;
    tl_str = expected_str(idx);
    for (int i = 0; i < 1000; i++)
        tl_vec.push_back(idx * 1000 + i);

    for (int r = 0; r < ROUNDS; r++) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        std::this_thread::yield();
        if (&tracked != t)
            fail("thread %d round %d: &tracked moved from %p to %p", idx, r, (void *)t, (void *)&tracked);
        if (tracked.owner != idx || tracked.self != t || tracked.magic != 0x7A11EDL)
            fail("thread %d round %d: thread_local Tracked: owner expected %d, got %d; magic %#lx",
                 idx, r, idx, tracked.owner, tracked.magic);
        if (tl_plain != idx)
            fail("thread %d round %d: thread_local int expected %d, got %d", idx, r, idx, tl_plain);
        if (tl_str != expected_str(idx))
            fail("thread %d round %d: thread_local string expected \"%s\", got \"%s\"", idx, r,
                 expected_str(idx).c_str(), tl_str.c_str());
        if (tl_vec.size() != 1000)
            fail("thread %d round %d: thread_local vector size expected 1000, got %zu", idx, r, tl_vec.size());
        for (int i = 0; i < 1000; i++)
            if (tl_vec[i] != idx * 1000 + i)
                fail("thread %d round %d: thread_local vector[%d] expected %d, got %d", idx, r, i,
                     idx * 1000 + i, tl_vec[i]);
    }
}

static void *pthread_body(void *arg)
{
    body((int)(long)arg);
    return arg;
}

static void check_counts(const char *phase, int n_expected)
{
    int c = ctors.load(), d = dtors.load();
    if (c != n_expected || d != n_expected) {
        std::fprintf(stderr, "FAIL tls_cxx: after %s: constructors expected %d, got %d; "
                     "destructors expected %d, got %d\n", phase, n_expected, c, n_expected, d);
        std::exit(1);
    }
    if (bad_dtors.load() != 0) {
        std::fprintf(stderr, "FAIL tls_cxx: after %s: %d destructors ran on a wrong/corrupt object\n",
                     phase, bad_dtors.load());
        std::exit(1);
    }
    for (int i = 0; i < n_expected; i++)
        if (Tracked::seen_dtor[i].load() != 1) {
            std::fprintf(stderr, "FAIL tls_cxx: after %s: destructor for thread %d ran %d times, expected 1\n",
                         phase, i, Tracked::seen_dtor[i].load());
            std::exit(1);
        }
}

int main()
{
    // Phase 1: pthread_create.
    std::vector<pthread_t> pts(N);
    for (int i = 0; i < N; i++) {
        int rc = pthread_create(&pts[i], nullptr, pthread_body, (void *)(long)i);
        if (rc != 0)
            fail("pthread_create #%d: expected 0, got %d (%s)", i, rc, std::strerror(rc));
    }
    for (int i = 0; i < N; i++) {
        void *ret = nullptr;
        int rc = pthread_join(pts[i], &ret);
        if (rc != 0 || ret != (void *)(long)i)
            fail("pthread_join #%d: expected rc 0 value %d, got rc %d value %ld", i, i, rc, (long)ret);
    }
    check_counts("500 pthreads", N);

    // Phase 2: std::thread.
    std::vector<std::thread> sts;
    sts.reserve(N);
    for (int i = 0; i < N; i++)
        sts.emplace_back(body, N + i);
    for (auto &t : sts)
        t.join();
    check_counts("500 more std::threads", 2 * N);

    std::printf("tls_cxx: constructors=%d destructors=%d OK\n", ctors.load(), dtors.load());
    return 0;
}
