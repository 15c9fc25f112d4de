package ops

// LogSoftmax is x - log(sum(e^x)) along an axis (opset 1, 11, 13; float32, float64), with
// Softmax's axis rules: before opset 13 the input is coerced to 2-D at axis (default 1), from
// 13 it runs along one axis (default -1). See softmax.go, which computes both.
func newLogSoftmax(n *Node) (Op, error) { return newSoftmaxOp(n, true) }
