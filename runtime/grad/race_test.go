//go:build race

package grad

// raceEnabled: the race detector's instrumentation allocates, so allocation counts are not checked.
const raceEnabled = true
