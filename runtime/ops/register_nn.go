package ops

func registerNN(r *Registry) {
}
