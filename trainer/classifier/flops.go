package classifier

import "github.com/gendl/gendl/models/classifier"

// MACs returns the multiply-adds of one image through the classifier (forward): every
// convolution (output positions · filters · input channels · k²) and both dense layers.
func MACs(c classifier.Config) float64 {
	k2 := float64(c.Kernel * c.Kernel)
	var macs float64
	in := c.ImageShape[0]
	for i, m := range c.Maps() {
		f := c.Filters[i]
		macs += float64(m[0]*m[1]*f*in) * k2
		in = f
	}
	return macs + float64(c.Flat()*c.Hidden) + float64(c.Hidden*len(c.Classes))
}

// StepFLOPs counts the floating-point operations of one training step at the given batch:
// the forward multiply-adds (2 FLOPs each) and twice that backward (the input and the weight
// gradients). Element-wise work (activations, dropout, the loss, the optimizer) is left out.
func StepFLOPs(c classifier.Config, batch int) float64 {
	return 3 * 2 * MACs(c) * float64(batch)
}
