package vae

import (
	"fmt"

	"github.com/gendl/gendl/models/vae"
	"github.com/gendl/gendl/onnx"
)

// writeFile writes data to path atomically.
func writeFile(path string, data []byte) error {
	if err := onnx.WriteFileAtomic(path, data); err != nil {
		return fmt.Errorf("vae: %w", err)
	}
	return nil
}

// StepFLOPs counts the floating-point operations of one training step at the given batch:
// the multiply-adds of every convolution, transposed convolution and dense layer (2 FLOPs
// each) forward, and twice that backward (the input and the weight gradients). Element-wise
// work (activations, the loss, the optimizer) is left out.
func StepFLOPs(c vae.Config, batch int) float64 {
	k2 := float64(c.Kernel * c.Kernel)
	C, H, W := c.ImageShape[0], c.ImageShape[1], c.ImageShape[2]
	var macs float64
	in, h, w := C, H, W
	for _, f := range c.Filters { // conv: output positions · f · in · k²
		h, w = h/2, w/2
		macs += float64(h*w*f*in) * k2
		in = f
	}
	F, bh, bw := c.Bottleneck()
	flat := float64(F * bh * bw)
	macs += flat*float64(c.Hidden) + 2*float64(c.Hidden*c.LatentDim) // encoder dense layers
	macs += float64(c.LatentDim) * flat                              // decoder dense
	in = F
	for i := len(c.Filters) - 1; i >= 0; i-- { // convT: input positions · in · f · k²
		f := c.Filters[i]
		macs += float64(h*w*in*f) * k2
		h, w, in = h*2, w*2, f
	}
	macs += float64(h*w*in*C) * k2 // output layer
	return 3 * 2 * macs * float64(batch)
}
