// syscall_cost: Go twin of bench/syscall_cost.c: M x getppid through
// syscall.Syscall (entersyscall/exitsyscall) and M x a 1-byte Read of
// /dev/zero through os.File.  Prints getppid_ns=X and read_devzero_ns=Y.
package main

import (
	"fmt"
	"os"
	"strconv"
	"syscall"
	"time"
)

func main() {
	m := 2000000
	if len(os.Args) > 1 {
		m, _ = strconv.Atoi(os.Args[1])
	}
	pp := uintptr(os.Getppid())
	bad := 0
	for i := 0; i < 1000; i++ {
		if r, _, _ := syscall.Syscall(syscall.SYS_GETPPID, 0, 0, 0); r != pp {
			bad++
		}
	}
	t0 := time.Now()
	for i := 0; i < m; i++ {
		if r, _, _ := syscall.Syscall(syscall.SYS_GETPPID, 0, 0, 0); r != pp {
			bad++
		}
	}
	d1 := time.Since(t0)
	f, err := os.Open("/dev/zero")
	if err != nil {
		fmt.Fprintln(os.Stderr, "syscall_cost:", err)
		os.Exit(1)
	}
	b := make([]byte, 1)
	for i := 0; i < 1000; i++ {
		if n, _ := f.Read(b); n != 1 {
			bad++
		}
	}
	t1 := time.Now()
	for i := 0; i < m; i++ {
		b[0] = 1
		if n, _ := f.Read(b); n != 1 || b[0] != 0 {
			bad++
		}
	}
	d2 := time.Since(t1)
	if bad != 0 {
		fmt.Fprintln(os.Stderr, "syscall_cost: wrong results")
		os.Exit(1)
	}
	fmt.Printf("getppid_ns=%.1f\n", float64(d1.Nanoseconds())/float64(m))
	fmt.Printf("read_devzero_ns=%.1f\n", float64(d2.Nanoseconds())/float64(m))
}
