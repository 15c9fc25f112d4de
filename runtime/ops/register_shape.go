package ops

func registerShape(r *Registry) {
	r.Add("Concat", newConcat)
	r.Add("Constant", newConstant)
	r.Add("ConstantOfShape", newConstantOfShape)
	r.Add("Dropout", newDropout)
	r.Add("Flatten", newFlatten)
	r.Add("Gather", newGather)
	r.Add("Identity", newIdentity)
	r.Add("Pad", newPad)
	r.Add("Reshape", newReshape)
	r.Add("Resize", newResize)
	r.Add("Shape", newShape)
	r.Add("Slice", newSlice)
	r.Add("Squeeze", newSqueeze)
	r.Add("Transpose", newTranspose)
	r.Add("Unsqueeze", newUnsqueeze)
	r.Add("Upsample", newUpsample)
}
