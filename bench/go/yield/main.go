// yield: Go twin of bench/yield.c: two goroutines take turns incrementing
// a counter (A on even, B on odd values), calling runtime.Gosched() while
// it is not their turn.  Run with GOMAXPROCS=1.  Prints
// yield_roundtrip_ns=X.
package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	m := 200000
	if len(os.Args) > 1 {
		m, _ = strconv.Atoi(os.Args[1])
	}
	limit := int64(2 * m)
	var counter int64
	var wg sync.WaitGroup
	player := func(parity int64) {
		defer wg.Done()
		for {
			c := atomic.LoadInt64(&counter)
			if c >= limit {
				return
			}
			if c&1 == parity {
				atomic.StoreInt64(&counter, c+1)
			} else {
				runtime.Gosched()
			}
		}
	}
	t0 := time.Now()
	wg.Add(2)
	go player(0)
	go player(1)
	wg.Wait()
	d := time.Since(t0)
	fmt.Printf("yield_roundtrip_ns=%.1f\n", float64(d.Nanoseconds())/float64(m))
}
