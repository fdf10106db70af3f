# compat/ruby_threads.rb - N Ruby threads (Thread.new) alive at once.
#
#   ruby ruby_threads.rb [N]        (N defaults to 10000)
#
# Plain Ruby (MRI: one native thread per Ruby Thread), knows nothing of
# greenrun.  Every thread counts itself in under a Mutex, sleeps until all
# N have started (a ConditionVariable broadcast), then sleeps 10 ms and
# returns its index.  Main samples Thread.list and the process's OS threads
# ("Threads:" in /proc/self/status) while all are alive, then joins every
# thread through Thread#value and checks the count and the sum exactly.
# Output: "key: value" lines; exit status 0 only when every check passed.
n = (ARGV[0] || 10_000).to_i
mutex = Mutex.new
cv = ConditionVariable.new
started = 0
go = false
t0 = Process.clock_gettime(Process::CLOCK_MONOTONIC)
threads = Array.new(n) do |i|
  Thread.new(i) do |k|
    mutex.synchronize do
      started += 1
      cv.wait(mutex) until go
    end
    sleep 0.01
    k
  end
end
deadline = t0 + 120
loop do
  break if mutex.synchronize { started } == n
  abort "only #{started} of #{n} threads started" if Process.clock_gettime(Process::CLOCK_MONOTONIC) > deadline
  sleep 0.01
end
alive = Thread.list.size - 1
os = File.read("/proc/self/status")[/^Threads:\s+(\d+)/, 1].to_i
mutex.synchronize { go = true; cv.broadcast }
values = threads.map(&:value)
elapsed = Process.clock_gettime(Process::CLOCK_MONOTONIC) - t0
sum_ok = values.sum == n * (n - 1) / 2 && values.each_with_index.all? { |v, i| v == i }
puts "threads: #{n}"
puts "alive at once: #{alive}"
puts "os threads while alive: #{os}"
puts "joined: #{values.size}"
puts "values exact: #{sum_ok}"
puts format("total seconds: %.2f", elapsed)
ok = alive == n && values.size == n && sum_ok
puts(ok ? "ok" : "FAIL")
exit(ok ? 0 : 1)
