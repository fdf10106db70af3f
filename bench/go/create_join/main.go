// create_join: Go twin of bench/create_join.c.
//
//	create_join [N] [seq|all|both]
//
// seq: N times { go f(); wait for its result }; all: start N goroutines,
// then wait for all.  Prints create_join_ns_per_thread=X and/or
// create_all_join_all_ns_per_thread=X.
package main

import (
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"
)

func main() {
	n := 100000
	mode := "both"
	if len(os.Args) > 1 {
		n, _ = strconv.Atoi(os.Args[1])
	}
	if len(os.Args) > 2 {
		mode = os.Args[2]
	}
	if n <= 0 {
		fmt.Fprintln(os.Stderr, "usage: create_join [N] [seq|all|both]")
		os.Exit(2)
	}
	if mode == "seq" || mode == "both" {
		ch := make(chan int)
		for i := 0; i < 100; i++ {
			go func(i int) { ch <- i }(i)
			<-ch
		}
		t0 := time.Now()
		for i := 0; i < n; i++ {
			go func(i int) { ch <- i }(i)
			if r := <-ch; r != i {
				fmt.Fprintf(os.Stderr, "create_join: goroutine %d returned %d\n", i, r)
				os.Exit(1)
			}
		}
		fmt.Printf("create_join_ns_per_thread=%.1f\n", float64(time.Since(t0).Nanoseconds())/float64(n))
	}
	if mode == "all" || mode == "both" {
		res := make([]int, n)
		var wg sync.WaitGroup
		t0 := time.Now()
		wg.Add(n)
		for i := 0; i < n; i++ {
			go func(i int) { res[i] = i; wg.Done() }(i)
		}
		wg.Wait()
		fmt.Printf("create_all_join_all_ns_per_thread=%.1f\n", float64(time.Since(t0).Nanoseconds())/float64(n))
	}
}
