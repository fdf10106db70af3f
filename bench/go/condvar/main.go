// condvar: Go twin of bench/condvar.c with sync.Mutex + sync.Cond.
//
//	condvar [M]
//
// Two goroutines pass a turn back and forth under a mutex, waiting on a
// sync.Cond.  Prints condvar_roundtrip_ns=X.
package main

import (
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"
)

func main() {
	rounds := 100000
	if len(os.Args) > 1 {
		rounds, _ = strconv.Atoi(os.Args[1])
	}
	var mu sync.Mutex
	c := sync.NewCond(&mu)
	turn := 0
	var count [2]int
	var wg sync.WaitGroup
	player := func(me int) {
		defer wg.Done()
		for r := 0; r < rounds; r++ {
			mu.Lock()
			for turn != me {
				c.Wait()
			}
			count[me]++
			turn = 1 - me
			c.Signal()
			mu.Unlock()
		}
	}
	t0 := time.Now()
	wg.Add(2)
	go player(0)
	go player(1)
	wg.Wait()
	d := time.Since(t0)
	if count[0] != rounds || count[1] != rounds {
		fmt.Fprintln(os.Stderr, "condvar: wrong counts")
		os.Exit(1)
	}
	fmt.Printf("condvar_roundtrip_ns=%.1f\n", float64(d.Nanoseconds())/float64(rounds))
}
