package gan

import "github.com/gendl/gendl/trainer/loop"

// Optimizer names (trainer/loop's).
const (
	RMSprop = loop.RMSprop
	Adam    = loop.Adam
)

// newOptimizer returns trainer/loop's optimizer with the DCGAN settings: Adam's beta1 (the
// DCGAN paper: 0.5; RMSprop ignores it) and element-wise clipping of each gradient to
// [-clip, clip] (Keras' clipvalue, the book's clipvalue=1.0; 0: off). Step is then called
// with scale 1.
func newOptimizer(name string, lr, beta1, clip float64, sizes []int) (*loop.Optimizer, error) {
	opts := []loop.Option{loop.WithClipValue(clip)}
	if name == Adam {
		opts = append(opts, loop.WithBeta1(beta1))
	}
	return loop.NewOptimizer(name, lr, sizes, opts...)
}
