// blocked: Go twin of bench/blocked.c: WORKERS goroutines in pairs do a
// little computation and a one-byte os.Pipe round trip, while main blocks
// for SECONDS in a call without a poller: none (time.Sleep), waitpid
// (syscall.Wait4 on a child `sleep SECONDS`) or flock (syscall.Flock on a
// file another open file description holds locked), with SECONDS/2 counted
// before and after as the baseline.  Prints the same keys as
// bench/blocked.c: blocked_rounds_per_s, blocked_base_rounds_per_s,
// blocked_drop_pct, blocked_call_s.
//
//	blocked none|waitpid|flock [WORKERS] [SECONDS]
package main

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

type pair struct {
	rounds int64
	_      [56]byte
}

var sink float64

func compute() {
	x := 1.0
	for k := 0; k < 800; k++ {
		x = x*1.0000001 + 0.5
	}
	sink = x
}

func die(what string, err error) {
	fmt.Fprintln(os.Stderr, "blocked:", what, err)
	os.Exit(1)
}

func main() {
	mode, workers, secs := "none", 1000, 2.0
	if len(os.Args) > 1 {
		mode = os.Args[1]
	}
	if len(os.Args) > 2 {
		workers, _ = strconv.Atoi(os.Args[2])
	}
	if len(os.Args) > 3 {
		secs, _ = strconv.ParseFloat(os.Args[3], 64)
	}
	np := workers / 2
	pairs := make([]pair, np)
	var stop int32
	var wg sync.WaitGroup
	for i := 0; i < np; i++ {
		abR, abW, err := os.Pipe()
		if err != nil {
			die("pipe", err)
		}
		baR, baW, err := os.Pipe()
		if err != nil {
			die("pipe", err)
		}
		wg.Add(2)
		go func() { // B
			defer wg.Done()
			b := make([]byte, 1)
			for {
				if n, _ := abR.Read(b); n != 1 {
					return
				}
				compute()
				if _, err := baW.Write(b); err != nil {
					die("write", err)
				}
			}
		}()
		go func(p *pair) { // A
			defer wg.Done()
			b := make([]byte, 1)
			for atomic.LoadInt32(&stop) == 0 {
				compute()
				if _, err := abW.Write(b); err != nil {
					die("write", err)
				}
				if _, err := baR.Read(b); err != nil {
					die("read", err)
				}
				atomic.AddInt64(&p.rounds, 1)
			}
			abW.Close()
		}(&pairs[i])
	}
	var lockf, f2 *os.File
	if mode == "flock" {
		var err error
		lockf, err = os.CreateTemp("", "greenrun-bench-flock-")
		if err != nil {
			die("lock file", err)
		}
		f2, err = os.OpenFile(lockf.Name(), os.O_RDWR, 0)
		if err != nil {
			die("lock file", err)
		}
		os.Remove(lockf.Name())
		if err := syscall.Flock(int(lockf.Fd()), syscall.LOCK_EX); err != nil {
			die("flock", err)
		}
	}
	total := func() (t int64) {
		for i := range pairs {
			t += atomic.LoadInt64(&pairs[i].rounds)
		}
		return
	}
	dur := time.Duration(secs * float64(time.Second))
	time.Sleep(300 * time.Millisecond)
	ra, ta := total(), time.Now()
	time.Sleep(dur / 2)
	r0, t0 := total(), time.Now()
	switch mode {
	case "none":
		time.Sleep(dur)
	case "waitpid":
		cmd := exec.Command("sleep", strconv.FormatFloat(secs, 'g', -1, 64))
		if err := cmd.Start(); err != nil {
			die("start sleep", err)
		}
		var st syscall.WaitStatus
		if _, err := syscall.Wait4(cmd.Process.Pid, &st, 0, nil); err != nil || st.ExitStatus() != 0 {
			die("wait4", err)
		}
	case "flock":
		go func() {
			time.Sleep(dur)
			syscall.Flock(int(lockf.Fd()), syscall.LOCK_UN)
		}()
		if err := syscall.Flock(int(f2.Fd()), syscall.LOCK_EX); err != nil {
			die("flock", err)
		}
	default:
		fmt.Fprintln(os.Stderr, "usage: blocked none|waitpid|flock [WORKERS] [SECONDS]")
		os.Exit(2)
	}
	r1, t1 := total(), time.Now()
	time.Sleep(dur / 2)
	rb, tb := total(), time.Now()
	atomic.StoreInt32(&stop, 1)
	wg.Wait()
	base := float64(r0-ra+rb-r1) / (t0.Sub(ta) + tb.Sub(t1)).Seconds()
	during := float64(r1-r0) / t1.Sub(t0).Seconds()
	fmt.Printf("blocked_base_rounds_per_s=%.0f\n", base)
	fmt.Printf("blocked_rounds_per_s=%.0f\n", during)
	fmt.Printf("blocked_drop_pct=%.1f\n", 100*(1-during/base))
	fmt.Printf("blocked_call_s=%.3f\n", t1.Sub(t0).Seconds())
}
