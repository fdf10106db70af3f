// mutex_wait: Go twin of bench/mutex_wait.c: HOGS goroutines re-take one
// sync.Mutex in a loop; TRIES times a new goroutine takes it once and its
// wait is timed.
//
//	mutex_wait [HOGS] [TRIES]
//
// Prints mutex_wait_worst_ms=X and mutex_wait_avg_ms=Y.
package main

import (
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	nh, tries := 2, 20
	if len(os.Args) > 1 {
		nh, _ = strconv.Atoi(os.Args[1])
	}
	if len(os.Args) > 2 {
		tries, _ = strconv.Atoi(os.Args[2])
	}
	var mu sync.Mutex
	var stop atomic.Bool
	var work int
	var wg sync.WaitGroup
	wg.Add(nh)
	for i := 0; i < nh; i++ {
		go func() {
			for !stop.Load() {
				mu.Lock()
				for j := 0; j < 200; j++ {
					work++
				}
				mu.Unlock()
			}
			wg.Done()
		}()
	}
	time.Sleep(5 * time.Millisecond)
	var worst, sum float64
	for k := 0; k < tries; k++ {
		done := make(chan float64)
		go func() {
			t0 := time.Now()
			mu.Lock()
			w := float64(time.Since(t0).Nanoseconds()) / 1e6
			mu.Unlock()
			done <- w
		}()
		w := <-done
		if w > worst {
			worst = w
		}
		sum += w
		time.Sleep(5 * time.Millisecond)
	}
	stop.Store(true)
	wg.Wait()
	fmt.Printf("mutex_wait_worst_ms=%.2f\nmutex_wait_avg_ms=%.2f\n", worst, sum/float64(tries))
}
