package grad

// Register adds the backward of every op this package differentiates to r.
func Register(r *Registry) {
	// Convolution and pooling.
	r.Add("Conv", newConvGrad)
	r.Add("ConvTranspose", newConvTransposeGrad)
	r.Add("MaxPool", newMaxPoolGrad)
	r.Add("AveragePool", newAveragePoolGrad)
	r.Add("GlobalAveragePool", newGlobalAveragePoolGrad)

	// Normalisation.
	r.Add("BatchNormalization", newBatchNormGrad)
	r.Add("LRN", newLRNGrad)
	r.Add("Softmax", newSoftmaxGrad(false))
	r.Add("LogSoftmax", newSoftmaxGrad(true))

	// Element-wise.
	r.Add("Relu", fixed(reluGrad))
	r.Add("LeakyRelu", unary(leakyReluGrad))
	r.Add("Sigmoid", fixed(sigmoidGrad))
	r.Add("Tanh", fixed(tanhGrad))
	r.Add("Elu", unary(eluGrad))
	r.Add("Selu", unary(seluGrad))
	r.Add("Neg", fixed(negGrad))
	r.Add("Exp", fixed(expGrad))
	r.Add("Log", fixed(logGrad))
	r.Add("Sqrt", fixed(sqrtGrad))
	r.Add("Clip", newClipGrad)
	r.Add("Dropout", newDropoutGrad)

	// Arithmetic with broadcasting, matrix products, reductions.
	r.Add("Add", newBinaryGrad('+'))
	r.Add("Sub", newBinaryGrad('-'))
	r.Add("Mul", newBinaryGrad('*'))
	r.Add("Div", newBinaryGrad('/'))
	r.Add("Gemm", newGemmGrad)
	r.Add("MatMul", newMatMulGrad)
	r.Add("ReduceSum", newReduceGrad(false))
	r.Add("ReduceMean", newReduceGrad(true))

	// Shape.
	r.Add("Identity", shapeOnly("input"))
	r.Add("Reshape", shapeOnly("data", "shape"))
	r.Add("Flatten", shapeOnly("input"))
	r.Add("Squeeze", shapeOnly("data", "axes"))
	r.Add("Unsqueeze", shapeOnly("data", "axes"))
	r.Add("Concat", newConcatGrad)
	r.Add("Transpose", newTransposeGrad)
	r.Add("Pad", newPadGrad)
}
