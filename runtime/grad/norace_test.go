//go:build !race

package grad

const raceEnabled = false
