package ops

func registerRecurrent(r *Registry) {
}
