// chanpingpong: the idiomatic Go form of a condvar ping-pong: two
// goroutines hand a value back and forth over two unbuffered channels.
//
//	chanpingpong [M]
//
// Prints chan_roundtrip_ns=X.
package main

import (
	"fmt"
	"os"
	"strconv"
	"time"
)

func main() {
	rounds := 100000
	if len(os.Args) > 1 {
		rounds, _ = strconv.Atoi(os.Args[1])
	}
	ping, pong := make(chan int), make(chan int)
	done := make(chan struct{})
	go func() {
		for v := range ping {
			pong <- v + 1
		}
		close(done)
	}()
	t0 := time.Now()
	for r := 0; r < rounds; r++ {
		ping <- r
		if <-pong != r+1 {
			fmt.Fprintln(os.Stderr, "chanpingpong: wrong value")
			os.Exit(1)
		}
	}
	d := time.Since(t0)
	close(ping)
	<-done
	fmt.Printf("chan_roundtrip_ns=%.1f\n", float64(d.Nanoseconds())/float64(rounds))
}
