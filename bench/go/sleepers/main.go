// sleepers: Go twin of bench/sleepers.c: N goroutines, released together
// once all exist, loop on time.Sleep(SLEEP_US); wake-ups per second over
// SECONDS.
//
//	sleepers [N] [SLEEP_US] [SECONDS]
//
// Prints sleepers_wakeups_per_s=X and sleepers_ideal_pct=Y.
package main

import (
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

type slot struct {
	count int64
	_     [56]byte
}

func main() {
	n, us, secs := 10000, 10000, 2.0
	if len(os.Args) > 1 {
		n, _ = strconv.Atoi(os.Args[1])
	}
	if len(os.Args) > 2 {
		us, _ = strconv.Atoi(os.Args[2])
	}
	if len(os.Args) > 3 {
		secs, _ = strconv.ParseFloat(os.Args[3], 64)
	}
	slots := make([]slot, n)
	var stop int32
	var started int64
	var wg sync.WaitGroup
	release := make(chan struct{})
	wg.Add(n)
	for i := 0; i < n; i++ {
		go func(s *slot) {
			atomic.AddInt64(&started, 1)
			<-release
			for atomic.LoadInt32(&stop) == 0 {
				time.Sleep(time.Duration(us) * time.Microsecond)
				atomic.AddInt64(&s.count, 1)
			}
			wg.Done()
		}(&slots[i])
	}
	for atomic.LoadInt64(&started) < int64(n) {
		time.Sleep(time.Millisecond)
	}
	close(release)
	time.Sleep(200 * time.Millisecond)
	total := func() (t int64) {
		for i := range slots {
			t += atomic.LoadInt64(&slots[i].count)
		}
		return
	}
	c0, t0 := total(), time.Now()
	time.Sleep(time.Duration(secs * float64(time.Second)))
	c1, d := total(), time.Since(t0)
	atomic.StoreInt32(&stop, 1)
	wg.Wait()
	rate := float64(c1-c0) / d.Seconds()
	fmt.Printf("sleepers_wakeups_per_s=%.0f\n", rate)
	fmt.Printf("sleepers_ideal_pct=%.1f\n", 100*rate/(float64(n)*1e6/float64(us)))
}
