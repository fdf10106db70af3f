// pipe: Go twin of bench/pipe.c: two goroutines, two os.Pipe pairs (Go
// puts them in its netpoller), one byte back and forth.
//
//	pipe [M]
//
// Prints pipe_roundtrip_ns=X.
package main

import (
	"fmt"
	"os"
	"strconv"
	"time"
)

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "pipe:", err)
		os.Exit(1)
	}
}

func main() {
	rounds := 100000
	if len(os.Args) > 1 {
		rounds, _ = strconv.Atoi(os.Args[1])
	}
	r1, w1, err := os.Pipe()
	must(err)
	r2, w2, err := os.Pipe()
	must(err)
	done := make(chan struct{})
	go func() {
		b := make([]byte, 1)
		for i := 0; i < rounds; i++ {
			_, err := r1.Read(b)
			must(err)
			b[0]++
			_, err = w2.Write(b)
			must(err)
		}
		close(done)
	}()
	t0 := time.Now()
	b := make([]byte, 1)
	for i := 0; i < rounds; i++ {
		b[0] = byte(i)
		_, err := w1.Write(b)
		must(err)
		_, err = r2.Read(b)
		must(err)
		if b[0] != byte(i+1) {
			fmt.Fprintln(os.Stderr, "pipe: wrong byte")
			os.Exit(1)
		}
	}
	<-done
	d := time.Since(t0)
	fmt.Printf("pipe_roundtrip_ns=%.1f\n", float64(d.Nanoseconds())/float64(rounds))
}
