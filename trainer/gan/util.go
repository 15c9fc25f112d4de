package gan

import (
	"fmt"

	"github.com/gendl/gendl/models/dcgan"
	"github.com/gendl/gendl/onnx"
)

// writeFile writes data to path atomically.
func writeFile(path string, data []byte) error {
	if err := onnx.WriteFileAtomic(path, data); err != nil {
		return fmt.Errorf("gan: %w", err)
	}
	return nil
}

// MACs returns the multiply-adds of one image through the generator and the discriminator
// (forward): every dense layer, convolution and transposed convolution.
func MACs(c dcgan.Config) (gen, disc float64) {
	F, h, w := c.Base()
	k2 := float64(c.Kernel * c.Kernel)
	gen = float64(c.LatentDim * F * h * w)
	in := F
	for _, f := range c.GenFilters { // input positions · in · f · k²
		gen += float64(h*w*in*f) * k2
		h, w, in = 2*h, 2*w, f
	}
	gen += float64(h*w*in*c.ImageShape[0]) * float64(c.OutKernel*c.OutKernel)
	in = c.ImageShape[0]
	for i, m := range c.DiscMaps() { // output positions · f · in · k²
		f := c.DiscFilters[i]
		disc += float64(m[0]*m[1]*f*in) * k2
		in = f
	}
	disc += float64(c.DiscFlat())
	return gen, disc
}

// StepFLOPs counts the floating-point operations of one training step (2 per multiply-add)
// at the given batch: the generator forward on B latent points; the discriminator forward
// and backward (input and weight gradients: 3x) on 2B images; the generator forward and
// backward (3x) on B points through the discriminator's forward and input gradient (2x).
// Element-wise work (activations, losses, optimizers) is left out.
func StepFLOPs(c dcgan.Config, batch int) float64 {
	g, d := MACs(c)
	B := float64(batch)
	return 2 * (B*g + 2*B*3*d + B*3*g + B*2*d)
}
