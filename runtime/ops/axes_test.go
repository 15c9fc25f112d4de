package ops

import (
	"fmt"
	"testing"
)

func TestResolveAxis(t *testing.T) {
	for _, c := range []struct {
		axis int64
		rank int
		want int
	}{{0, 3, 0}, {2, 3, 2}, {-1, 3, 2}, {-3, 3, 0}} {
		if got, err := resolveAxis(c.axis, c.rank); err != nil || got != c.want {
			t.Errorf("resolveAxis(%d, %d) = %d, %v; want %d", c.axis, c.rank, got, err, c.want)
		}
	}
	for _, c := range []struct {
		axis int64
		rank int
	}{{3, 3}, {-4, 3}, {0, 0}} {
		_, err := resolveAxis(c.axis, c.rank)
		shWantErr(t, fmt.Sprintf("resolveAxis(%d, %d)", c.axis, c.rank), err, "out of range")
	}
}

func TestResolveAxes(t *testing.T) {
	got, err := resolveAxes([]int64{-1, 0, -2}, 4)
	if err != nil || fmt.Sprint(got) != "[3 0 2]" {
		t.Errorf("got %v, %v; want [3 0 2]", got, err)
	}
	_, err = resolveAxes([]int64{1, -3}, 4)
	shWantErr(t, "1 and -3 of rank 4", err, "given twice")
	_, err = resolveAxes([]int64{4}, 4)
	shWantErr(t, "4 of rank 4", err, "out of range")
}
