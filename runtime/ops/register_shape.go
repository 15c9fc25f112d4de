package ops

func registerShape(r *Registry) {
	r.Add("Identity", newIdentity)
}
