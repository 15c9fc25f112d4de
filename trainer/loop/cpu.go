package loop

import (
	"syscall"
	"time"
)

// CPUTime returns the process's user + system CPU time so far (0 where unavailable). Training
// logs report it beside wall-clock time, which is noisy on a shared machine.
func CPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
