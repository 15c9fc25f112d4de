package ops

// registerRecurrent adds the recurrent ops: LSTM, GRU and RNN.
func registerRecurrent(r *Registry) {
	r.Add("GRU", newGRU)
	r.Add("LSTM", newLSTM)
	r.Add("RNN", newRNN)
}
