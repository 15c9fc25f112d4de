package ops

// registerNN adds the convolution, pooling and normalisation ops.
func registerNN(r *Registry) {
	r.Add("AveragePool", newAveragePool)
	r.Add("BatchNormalization", newBatchNorm)
	r.Add("Conv", newConv)
	r.Add("ConvTranspose", newConvTranspose)
	r.Add("GlobalAveragePool", newGlobalAveragePool)
	r.Add("LRN", newLRN)
	r.Add("MaxPool", newMaxPool)
}
