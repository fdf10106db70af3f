// live: Go twin of bench/live.c.
//
//	live N [SECONDS]
//
// Starts up to N goroutines that each count themselves as started and block
// on a channel receive; once all have started, samples VmRSS and VmPTE from
// /proc/self/status, closes the channel and waits for them all.  Same
// output keys as bench/live.c.
package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func statusKiB(key string) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return -1
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if strings.HasPrefix(s.Text(), key+":") {
			fs := strings.Fields(s.Text()[len(key)+1:])
			v, _ := strconv.ParseInt(fs[0], 10, 64)
			return v
		}
	}
	return -1
}

func main() {
	n := 100000
	limit := 30.0
	if len(os.Args) > 1 {
		n, _ = strconv.Atoi(os.Args[1])
	}
	if len(os.Args) > 2 {
		limit, _ = strconv.ParseFloat(os.Args[2], 64)
	}
	var started int64
	release := make(chan struct{})
	var wg sync.WaitGroup
	rss0, pte0 := statusKiB("VmRSS"), statusKiB("VmPTE")
	why := "N"
	t0 := time.Now()
	k := 0
	for ; k < n; k++ {
		wg.Add(1)
		go func() {
			atomic.AddInt64(&started, 1)
			<-release
			wg.Done()
		}()
		if k&255 == 0 && time.Since(t0).Seconds() > limit {
			k++
			why = "time"
			break
		}
	}
	tc := time.Since(t0)
	for atomic.LoadInt64(&started) < int64(k) {
		time.Sleep(time.Millisecond)
	}
	rss, pte := statusKiB("VmRSS"), statusKiB("VmPTE")
	close(release)
	wg.Wait()
	tt := time.Since(t0)
	fmt.Printf("live_threads=%d\n", k)
	fmt.Printf("live_create_s=%.3f\n", tc.Seconds())
	fmt.Printf("live_rss_kib_per_thread=%.2f\n", float64(rss-rss0)/float64(k))
	fmt.Printf("live_pte_kib_per_thread=%.2f\n", float64(pte-pte0)/float64(k))
	fmt.Printf("live_rss_mib=%.1f\n", float64(rss)/1024)
	fmt.Printf("live_total_s=%.3f\n", tt.Seconds())
	fmt.Printf("live_stopped_by=%s\n", why)
}
