// hotspot: a program with a known CPU split, profiled with runtime/pprof.
// busyThree burns three times the CPU of busyOne. Its profile is
// t/data/hotspot.cpu.pb.gz (go run . > hotspot.cpu.pb.gz).
package main

import (
	"os"
	"runtime/pprof"
	"time"
)

var sink uint64

func spin(d time.Duration) {
	end := time.Now().Add(d)
	x := sink
	for time.Now().Before(end) {
		for i := 0; i < 1000; i++ {
			x = x*6364136223846793005 + 1442695040888963407
		}
	}
	sink = x
}

func busyThree() { spin(1500 * time.Millisecond) }
func busyOne()   { spin(500 * time.Millisecond) }

func main() {
	pprof.StartCPUProfile(os.Stdout)
	for i := 0; i < 4; i++ {
		busyThree()
		busyOne()
	}
	pprof.StopCPUProfile()
}
