//go:build !unix

package httpapi

import "time"

// cpuTime returns 0 where getrusage is not available: the benchmark reports no CPU figure.
func cpuTime() time.Duration { return 0 }
