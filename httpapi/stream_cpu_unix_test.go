//go:build unix

package httpapi

import (
	"syscall"
	"time"
)

// cpuTime returns the user and system CPU time of the process so far (client and server run in
// it both).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
