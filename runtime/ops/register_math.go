package ops

func registerMath(r *Registry) {
	r.Add("Relu", newRelu)
}
