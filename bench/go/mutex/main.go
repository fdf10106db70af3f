// mutex: Go twin of bench/mutex.c: THREADS goroutines released together,
// each ITERATIONS x { Lock; counter++; Unlock } on one sync.Mutex.
//
//	mutex [THREADS] [ITERATIONS]
//
// Prints mutex_ns_per_lock=X.
package main

import (
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"
)

func main() {
	n, iters := 4, 1000000
	if len(os.Args) > 1 {
		n, _ = strconv.Atoi(os.Args[1])
	}
	if len(os.Args) > 2 {
		iters, _ = strconv.Atoi(os.Args[2])
	}
	var mu sync.Mutex
	counter := 0
	start := make(chan struct{})
	var ready, wg sync.WaitGroup
	ready.Add(n)
	wg.Add(n)
	for i := 0; i < n; i++ {
		go func() {
			ready.Done()
			<-start
			for j := 0; j < iters; j++ {
				mu.Lock()
				counter++
				mu.Unlock()
			}
			wg.Done()
		}()
	}
	ready.Wait()
	t0 := time.Now()
	close(start)
	wg.Wait()
	d := time.Since(t0)
	if counter != n*iters {
		fmt.Fprintln(os.Stderr, "mutex: wrong counter")
		os.Exit(1)
	}
	fmt.Printf("mutex_ns_per_lock=%.1f\n", float64(d.Nanoseconds())/float64(n*iters))
}
