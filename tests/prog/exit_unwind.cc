// exit_unwind: pthread_exit() called from nested C++ frames unwinds them.
//
// Why: glibc implements pthread_exit as a forced unwind
// (_Unwind_ForcedUnwind with exception class abi::__forced_unwind), which
// walks the thread's stack frame by frame running destructors, catch(...)
// handlers that rethrow, and C++ pthread_cleanup_push handlers, and stops at
// the thread's start routine.  Under greenrun the stack is a green-thread
// stack entered through the runtime's trampoline, so the unwinder must be
// able to walk it (correct CFI, a terminating outermost frame) and the
// thread must then finish normally with the pthread_exit value.
//
// 100 threads; each:
//   start:  Obj a(1); pthread_cleanup_push(handler); f2();
//   f2:     Obj b(2); f3();
//   f3:     Obj c(3); try { f4(); } catch (abi::__forced_unwind &) { log; throw; }
//   f4:     sleeps / yields (may migrate), then pthread_exit(value)
// Expected, per thread, exactly this event sequence:
//   catch, ~Obj(3), ~Obj(2), cleanup handler, ~Obj(1)
// (3 destructors, the handler once, in LIFO order), nothing after
// pthread_exit runs, and pthread_join returns the value.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <cxxabi.h>
#include <pthread.h>
#include <thread>

static const int N = 100;
static const int MAXEV = 16;

enum Ev { EV_NONE, EV_CATCH, EV_DTOR1, EV_DTOR2, EV_DTOR3, EV_HANDLER, EV_AFTER_EXIT };
static const char *ev_name[] = { "none", "catch", "~Obj(1)", "~Obj(2)", "~Obj(3)", "cleanup-handler", "code-after-pthread_exit" };

struct Log {
    int n;
    int ev[MAXEV];
    void add(int e) { if (n < MAXEV) ev[n] = e; n++; }
};
static Log logs[N];
static std::atomic<int> total_dtors{0};

struct Obj {
    Log *log;
    int which;
    Obj(Log *l, int w) : log(l), which(w) {}
    ~Obj() { log->add(EV_DTOR1 + which - 1); total_dtors.fetch_add(1); }
};

static void handler(void *arg) { static_cast<Log *>(arg)->add(EV_HANDLER); }

__attribute__((noinline)) static void f4(Log *log, int idx)
{
    for (int i = 0; i < 3; i++) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        std::this_thread::yield();
    }
    pthread_exit(reinterpret_cast<void *>(static_cast<long>(idx) * 7 + 3));
    log->add(EV_AFTER_EXIT);
}

__attribute__((noinline)) static void f3(Log *log, int idx)
{
    Obj c(log, 3);
    try {
        f4(log, idx);
    } catch (abi::__forced_unwind &) {
        log->add(EV_CATCH);
        throw;                      // must rethrow, as required
    }
    log->add(EV_AFTER_EXIT);
}

__attribute__((noinline)) static void f2(Log *log, int idx)
{
    Obj b(log, 2);
    f3(log, idx);
    log->add(EV_AFTER_EXIT);
}

static void *start(void *arg)
{
    int idx = static_cast<int>(reinterpret_cast<long>(arg));
    Log *log = &logs[idx];
    Obj a(log, 1);
    pthread_cleanup_push(handler, log);
    f2(log, idx);
    log->add(EV_AFTER_EXIT);
    pthread_cleanup_pop(0);
    return nullptr;                 // not reached
}

int main()
{
    pthread_t t[N];
    for (int i = 0; i < N; i++) {
        int rc = pthread_create(&t[i], nullptr, start, reinterpret_cast<void *>(static_cast<long>(i)));
        if (rc != 0) {
            std::fprintf(stderr, "FAIL exit_unwind: pthread_create #%d: %s\n", i, std::strerror(rc));
            return 1;
        }
    }
    static const int expected[] = { EV_CATCH, EV_DTOR3, EV_DTOR2, EV_HANDLER, EV_DTOR1 };
    const int nexp = sizeof expected / sizeof expected[0];
    for (int i = 0; i < N; i++) {
        void *ret = nullptr;
        int rc = pthread_join(t[i], &ret);
        long want = static_cast<long>(i) * 7 + 3;
        if (rc != 0 || ret != reinterpret_cast<void *>(want)) {
            std::fprintf(stderr, "FAIL exit_unwind: thread %d: pthread_join expected rc 0 value %ld, got rc %d value %ld\n",
                         i, want, rc, reinterpret_cast<long>(ret));
            return 1;
        }
        const Log &l = logs[i];
        bool ok = l.n == nexp;
        for (int k = 0; ok && k < nexp; k++)
            ok = l.ev[k] == expected[k];
        if (!ok) {
            std::fprintf(stderr, "FAIL exit_unwind: thread %d: expected events [", i);
            for (int k = 0; k < nexp; k++)
                std::fprintf(stderr, "%s%s", k ? ", " : "", ev_name[expected[k]]);
            std::fprintf(stderr, "], got [");
            for (int k = 0; k < l.n && k < MAXEV; k++)
                std::fprintf(stderr, "%s%s", k ? ", " : "", ev_name[l.ev[k]]);
            std::fprintf(stderr, "]\n");
            return 1;
        }
    }
    if (total_dtors.load() != 3 * N) {
        std::fprintf(stderr, "FAIL exit_unwind: destructors expected %d, got %d\n", 3 * N, total_dtors.load());
        return 1;
    }
    std::printf("exit_unwind: %d threads, %d destructors, handlers and exit values OK\n", N, total_dtors.load());
    return 0;
}
