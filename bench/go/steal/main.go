// steal: Go twin of bench/steal.c: one goroutine starts N CPU-bound
// goroutines (~1 ms of arithmetic each at the default ITERS) and waits for
// them all.  Prints wall_ms=X and checksum=Y (equal to the C version's).
//
//	steal [N] [ITERS]
package main

import (
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

var iters = 350000

func work(seed uint64) uint64 {
	x := seed*0x9E3779B97F4A7C15 + 1
	for i := 0; i < iters; i++ {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		x = x*0xD1342543DE82EF95 + uint64(i)
	}
	return x
}

func main() {
	n := 10000
	if len(os.Args) > 1 {
		n, _ = strconv.Atoi(os.Args[1])
	}
	if len(os.Args) > 2 {
		iters, _ = strconv.Atoi(os.Args[2])
	}
	var sum uint64
	t0 := time.Now()
	done := make(chan struct{})
	go func() {
		var wg sync.WaitGroup
		wg.Add(n)
		for i := 0; i < n; i++ {
			go func(i int) { atomic.AddUint64(&sum, work(uint64(i))); wg.Done() }(i)
		}
		wg.Wait()
		close(done)
	}()
	<-done
	fmt.Printf("wall_ms=%.1f\n", float64(time.Since(t0).Nanoseconds())/1e6)
	fmt.Printf("checksum=%#x\n", atomic.LoadUint64(&sum))
}
