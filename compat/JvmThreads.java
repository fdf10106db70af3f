// JvmThreads.java - a plain Java program for compat/jvm_threads.sh.
//
//   java JvmThreads [THREADS]      (THREADS defaults to 10000)
//
// It knows nothing of greenrun.  Every part checks its result exactly and
// prints "ok <part>: <figure>" or "FAIL <part>: <why>"; the exit status is
// 0 only when all parts passed.  Parts:
//   platform   THREADS platform threads (new Thread().start()) alive at once:
//              each counts itself in, waits on a CountDownLatch, sleeps
//              10 ms, allocates (so the GC runs while they are all alive)
//              and adds its index; exact count and sum after join().  The
//              process's OS thread count ("Threads:" of /proc/self/status)
//              is sampled while all of them are alive and printed.
//   monitor    64 threads x 2,000 increments under synchronized, and an
//              Object.wait/notifyAll turnstile of 16 threads x 200 turns.
//   executor   a fixed pool of 32 runs 2,000 Callables; every 5th throws,
//              and Future.get() must throw ExecutionException whose cause
//              carries the task's index.
//   forkjoin   a parallel stream sum over 0..2,000,000 (the common pool).
//   overflow   16 threads each recurse until StackOverflowError, catch it,
//              and do it again (the JVM's own guard zones on each thread
//              stack); each must catch it 3 times and then return normally.
//   gc         4 threads allocate 200 MB each in short-lived arrays and
//              System.gc() runs meanwhile; checksums exact.
import java.nio.file.*;
import java.util.*;
import java.util.concurrent.*;
import java.util.concurrent.atomic.*;
import java.util.stream.*;

public class JvmThreads {
    static int failures;

    static void fail(String part, String why) {
        System.out.println("FAIL " + part + ": " + why);
        failures++;
    }

    static String osThreads() {
        try {
            for (String l : Files.readAllLines(Paths.get("/proc/self/status")))
                if (l.startsWith("Threads:"))
                    return l.substring(8).trim();
        } catch (Exception e) {
        }
        return "?";
    }

    static void platform(int n) throws Exception {
        AtomicInteger started = new AtomicInteger(), done = new AtomicInteger();
        AtomicLong sum = new AtomicLong();
        CountDownLatch go = new CountDownLatch(1);
        Thread[] ts = new Thread[n];
        for (int i = 0; i < n; i++) {
            final int k = i;
            ts[i] = new Thread(() -> {
                started.incrementAndGet();
                try {
                    go.await();
                    Thread.sleep(10);
                } catch (InterruptedException e) {
                    return;
                }
                List<int[]> keep = new ArrayList<>();
                long s = 0;
                for (int j = 0; j < 50; j++) {
                    int[] x = new int[512];
                    x[j] = k;
                    keep.add(x);
                    s += keep.get(j)[j];
                }
                sum.addAndGet(s / 50);
                done.incrementAndGet();
            }, "worker-" + i);
            ts[i].start();
        }
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (started.get() < n && System.nanoTime() < deadline)
            Thread.sleep(1);
        String live = osThreads();
        go.countDown();
        for (Thread t : ts)
            t.join();
        long want = (long) n * (n - 1) / 2;
        if (done.get() != n || sum.get() != want)
            fail("platform", "done " + done.get() + " sum " + sum.get() + ", want " + n + " / " + want);
        else
            System.out.println("ok platform: " + n + " threads alive at once, joined, sum exact; OS threads while alive: " + live);
    }

    static int counter;

    static void monitor() throws Exception {
        Object lock = new Object();
        Thread[] ts = new Thread[64];
        for (int i = 0; i < ts.length; i++) {
            ts[i] = new Thread(() -> {
                for (int k = 0; k < 2000; k++)
                    synchronized (lock) {
                        counter++;
                        if (k % 100 == 0)
                            Thread.yield();
                    }
            });
            ts[i].start();
        }
        for (Thread t : ts)
            t.join();
        // turnstile: thread i may go when turn % 16 == i.
        final int[] turn = {0};
        Thread[] tt = new Thread[16];
        for (int i = 0; i < tt.length; i++) {
            final int me = i;
            tt[i] = new Thread(() -> {
                for (int r = 0; r < 200; r++)
                    synchronized (turn) {
                        while (turn[0] % 16 != me)
                            try {
                                turn.wait();
                            } catch (InterruptedException e) {
                                return;
                            }
                        turn[0]++;
                        turn.notifyAll();
                    }
            });
            tt[i].start();
        }
        for (Thread t : tt)
            t.join();
        if (counter != 64 * 2000 || turn[0] != 16 * 200)
            fail("monitor", "counter " + counter + " turns " + turn[0]);
        else
            System.out.println("ok monitor: " + counter + " synchronized increments, " + turn[0] + " wait/notify turns");
    }

    static void executor() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(32);
        List<Future<Long>> fs = new ArrayList<>();
        for (int i = 0; i < 2000; i++) {
            final int k = i;
            fs.add(pool.submit(() -> {
                if (k % 5 == 2)
                    throw new IllegalStateException("task " + k);
                Thread.sleep(k % 3);
                return (long) k * k;
            }));
        }
        long sum = 0, want = 0;
        int thrown = 0;
        for (int i = 0; i < fs.size(); i++) {
            try {
                sum += fs.get(i).get();
                want += (long) i * i;
            } catch (ExecutionException e) {
                if (i % 5 == 2 && e.getCause() instanceof IllegalStateException
                        && e.getCause().getMessage().equals("task " + i))
                    thrown++;
                else
                    fail("executor", "task " + i + ": " + e);
            }
        }
        pool.shutdown();
        if (!pool.awaitTermination(30, TimeUnit.SECONDS))
            fail("executor", "pool did not terminate");
        if (sum != want || thrown != 400)
            fail("executor", "sum " + sum + " want " + want + ", rethrown " + thrown);
        else
            System.out.println("ok executor: 2000 tasks on 32 threads, 400 exceptions via Future.get");
    }

    static void forkjoin() {
        long s = LongStream.rangeClosed(0, 2_000_000).parallel().map(x -> x % 7).sum();
        long want = 0;
        for (long x = 0; x <= 2_000_000; x++)
            want += x % 7;
        if (s != want)
            fail("forkjoin", s + " != " + want);
        else
            System.out.println("ok forkjoin: parallel stream sum " + s);
    }

    static int recurse(int d) {
        return recurse(d + 1) + 1;
    }

    static void overflow() throws Exception {
        int n = 16;
        int[] caught = new int[n];
        Thread[] ts = new Thread[n];
        for (int i = 0; i < n; i++) {
            final int k = i;
            ts[i] = new Thread(() -> {
                for (int r = 0; r < 3; r++) {
                    try {
                        recurse(0);
                    } catch (StackOverflowError e) {
                        caught[k]++;
                    }
                }
            });
            ts[i].start();
        }
        for (Thread t : ts)
            t.join();
        int total = 0;
        for (int c : caught)
            total += c;
        if (total != 3 * n)
            fail("overflow", "caught " + total + " StackOverflowErrors, want " + 3 * n);
        else
            System.out.println("ok overflow: " + total + " StackOverflowErrors caught in " + n + " threads");
    }

    static void gc() throws Exception {
        long[] sums = new long[4];
        Thread[] ts = new Thread[4];
        for (int i = 0; i < 4; i++) {
            final int k = i;
            ts[i] = new Thread(() -> {
                long s = 0;
                for (int r = 0; r < 200; r++) {
                    byte[] b = new byte[1 << 20];
                    b[r % b.length] = (byte) (r + k);
                    s += b[r % b.length];
                }
                sums[k] = s;
            });
            ts[i].start();
        }
        for (int r = 0; r < 5; r++)
            System.gc();
        for (Thread t : ts)
            t.join();
        for (int k = 0; k < 4; k++) {
            long want = 0;
            for (int r = 0; r < 200; r++)
                want += (byte) (r + k);
            if (sums[k] != want)
                fail("gc", "thread " + k + " sum " + sums[k] + " want " + want);
        }
        System.out.println("ok gc: 800 MB allocated by 4 threads beside System.gc()");
    }

    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 10000;
        platform(n);
        monitor();
        executor();
        forkjoin();
        overflow();
        gc();
        if (failures > 0) {
            System.out.println(failures + " checks FAILED");
            System.exit(1);
        }
        System.out.println("all passed");
    }
}
