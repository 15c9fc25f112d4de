package text

import (
	"slices"
	"testing"
)

func TestStepTicks(t *testing.T) {
	for _, tc := range []struct {
		lo, hi float64
		want   []string
	}{
		{0, 4, []string{"0", "", "1", "", "2", "", "3", "", "4"}},
		{1.5, 4.5, []string{"1.5", "", "2.0", "", "2.5", "", "3.0", "", "3.5", "", "4.0", "", "4.5"}},
		{0, 20, []string{"0", "", "5", "", "10", "", "15", "", "20"}},
		{1.23, 1.31, []string{"", "1.24", "", "1.26", "", "1.28", "", "1.30", ""}},
	} {
		var got []string
		for _, tk := range (stepTicks{}).Ticks(tc.lo, tc.hi) {
			got = append(got, tk.Label)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("[%g, %g]: labels (-want +got):\n-%q\n+%q", tc.lo, tc.hi, tc.want, got)
		}
	}
}
