// tick: Go twin of bench/tick.c: 4 goroutines spin in pure computation
// (no calls: only Go's asynchronous preemption can stop them) while main
// wakes every 10 ms for 200 ticks, from time.Sleep or ("timerfd" as the
// first argument) from a read of a non-blocking timerfd with a 10 ms
// period, which Go's netpoller reports (os.NewFile registers it).  Run
// with GOMAXPROCS=2.  Prints tick_p50_ms, tick_p99_ms, tick_max_ms and
// each spinner's work count.
package main

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

// timerfd: a CLOCK_MONOTONIC timerfd ticking every period, as an *os.File
// on Go's netpoller (syscall has the numbers, not the wrappers).
func timerfd(period time.Duration) *os.File {
	fd, _, e := syscall.Syscall(syscall.SYS_TIMERFD_CREATE, 1 /* CLOCK_MONOTONIC */, syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if e != 0 {
		panic(e)
	}
	ts := syscall.NsecToTimespec(int64(period))
	its := [2]syscall.Timespec{ts, ts} // interval, first expiry
	if _, _, e := syscall.Syscall6(syscall.SYS_TIMERFD_SETTIME, fd, 0, uintptr(unsafe.Pointer(&its)), 0, 0, 0); e != 0 {
		panic(e)
	}
	return os.NewFile(fd, "timerfd")
}

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
	if len(os.Args) > 1 && os.Args[1] == "timerfd" {
		f := timerfd(10 * time.Millisecond)
		buf := make([]byte, 8)
		for i := 0; i < len(late); {
			if _, err := io.ReadFull(f, buf); err != nil {
				panic(err)
			}
			// n > 1: ticks were missed, each as late as it is
			for n := binary.LittleEndian.Uint64(buf); n > 0 && i < len(late); n-- {
				late[i] = float64(time.Since(next).Nanoseconds()) / 1e6
				next = next.Add(10 * time.Millisecond)
				i++
			}
		}
	} else {
		for i := range late {
			if d := time.Until(next); d > 0 {
				time.Sleep(d)
			}
			late[i] = float64(time.Since(next).Nanoseconds()) / 1e6
			next = next.Add(10 * time.Millisecond)
		}
	}
	atomic.StoreInt32(&stop, 1)
	wg.Wait()
	sort.Float64s(late)
	fmt.Printf("tick_p50_ms=%.2f\ntick_p99_ms=%.2f\ntick_max_ms=%.2f\nwork=%d,%d,%d,%d\n",
		late[100], late[197], late[199], work[0], work[1], work[2], work[3])
}
