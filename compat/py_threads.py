"""compat/py_threads.py - N CPython threading.Thread objects alive at once.

    python3 py_threads.py [N]        (N defaults to 100000)

Plain CPython, knows nothing of greenrun.  Every thread counts itself in,
sleeps until its release time (at least 10 ms), and stores its index in its
slot.  Release times start RELEASE_US microseconds per thread after the
start (env PY_RELEASE_US, default 300: 30 s for 100,000), so normally all N
threads are alive, asleep, at the same time, and are spread evenly over the
following SPREAD_US per thread (env PY_SPREAD_US, default 100: 10 s).  Main waits (bounded)
for all to start and samples threading.active_count(), how many already
finished, and the process's OS threads ("Threads:" in /proc/self/status);
then joins every thread and checks that each slot holds its index.
Output: "key: value" lines; exit status 0 only when every check passed.

Why spread wake-ups, and not an Event: Event.set() from main wakes
N threads while main still holds the GIL for its notify loop; they all
queue for the GIL and main's loop crawls (CPython's GIL convoy: natively
18 s just for Event.set() with 20,000 waiters here, under greenrun
anywhere from 0.03 s to 36 s), and 100,000 threads waking at the same
instant all queue for the GIL, each re-waiting every 5 ms (50 s here).  Daemon threads: CPython 3.11 scans all
live non-daemon threads at every start (_maintain_shutdown_locks), which
makes N starts quadratic (natively 96 s to start 20,000); every thread is
joined explicitly anyway.
"""
import os
import sys
import threading
import time

N = int(sys.argv[1]) if len(sys.argv) > 1 else 100000
started = 0
lock = threading.Lock()
slots = [None] * N
done = 0
release_at = time.monotonic() + N * int(os.environ.get("PY_RELEASE_US", "300")) / 1e6
spread = int(os.environ.get("PY_SPREAD_US", "100")) / 1e6


def os_threads():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("Threads:"):
                return int(line.split()[1])
    return -1


def work(i):
    global started, done
    with lock:
        started += 1
    time.sleep(max(0.01, release_at + i * spread - time.monotonic()))
    slots[i] = i
    with lock:
        done += 1


t0 = time.monotonic()
threads = []
try:
    for i in range(N):
        t = threading.Thread(target=work, args=(i,), daemon=True)
        t.start()
        threads.append(t)
except RuntimeError as e:  # natively: "can't start new thread" near pid_max
    print(f"start failed at thread {len(threads)}: {e}")
    for t in threads:
        t.join()
    sys.exit(1)
t_start = time.monotonic() - t0
deadline = time.monotonic() + 120
while True:
    with lock:
        if started == N:
            break
    if time.monotonic() > deadline:
        print(f"only {started} of {N} threads started")
        sys.exit(1)
    time.sleep(0.01)
with lock:
    alive = started - done
    finished_early = done
osth = os_threads()
for t in threads:
    t.join()
elapsed = time.monotonic() - t0
bad = sum(1 for i, v in enumerate(slots) if v != i)
still = threading.active_count() - 1
print(f"threads: {N}")
print(f"alive at once: {alive}")
print(f"finished before all started: {finished_early}")
print(f"os threads while alive: {osth}")
print(f"joined: {N - still}")
print(f"wrong slots: {bad}")
print(f"start seconds: {t_start:.2f}")
print(f"total seconds: {elapsed:.2f}")
ok = bad == 0 and still == 0 and done == N
print("ok" if ok else "FAIL")
sys.exit(0 if ok else 1)
