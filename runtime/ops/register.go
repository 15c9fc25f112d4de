package ops

// Register adds every op of this package to r. It is the one place that says which ops exist:
// there is no init() registration. The op families are listed in their own functions below
// (each beside the files of its family) only to keep the lists short.
func Register(r *Registry) {
	registerNN(r)        // register_nn.go: convolution, pooling, normalisation
	registerMath(r)      // register_math.go: element-wise, activations, matrix products, reductions, casts
	registerShape(r)     // register_shape.go: shape and data movement, constants, resizing
	registerRecurrent(r) // register_recurrent.go: LSTM
}
