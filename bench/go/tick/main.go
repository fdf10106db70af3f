// tick: Go twin of bench/tick.c: 4 goroutines spin in pure computation
// (no calls: only Go's asynchronous preemption can stop them) while main
// wakes every 10 ms for 200 ticks.  Run with GOMAXPROCS=2.  Prints
// tick_p50_ms, tick_p99_ms, tick_max_ms and each spinner's work count.
package main

import (
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

var stop int32
var work [4]int64
var sink [4]float64

func spinner(i int, wg *sync.WaitGroup) {
	x := 1.0
	for atomic.LoadInt32(&stop) == 0 {
		for k := 0; k < 1000; k++ {
			x = x*1.0000001 + 0.5
		}
		work[i]++
	}
	sink[i] = x
	wg.Done()
}

func main() {
	var wg sync.WaitGroup
	wg.Add(4)
	for i := 0; i < 4; i++ {
		go spinner(i, &wg)
	}
	late := make([]float64, 200)
	next := time.Now().Add(10 * time.Millisecond)
	for i := range late {
		if d := time.Until(next); d > 0 {
			time.Sleep(d)
		}
		late[i] = float64(time.Since(next).Nanoseconds()) / 1e6
		next = next.Add(10 * time.Millisecond)
	}
	atomic.StoreInt32(&stop, 1)
	wg.Wait()
	sort.Float64s(late)
	fmt.Printf("tick_p50_ms=%.2f\ntick_p99_ms=%.2f\ntick_max_ms=%.2f\nwork=%d,%d,%d,%d\n",
		late[100], late[197], late[199], work[0], work[1], work[2], work[3])
}
