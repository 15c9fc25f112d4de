package charlstm

import "testing"

// TestDefaultLoads checks that the embedded model decodes, carries its configuration and
// vocabulary, and was trained on the default corpus with the book's window.
func TestDefaultLoads(t *testing.T) {
	m, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	if m.Config.MaxLen != 60 || m.Config.Hidden != 128 || m.Vocab.Size() < 60 {
		t.Fatalf("default model config %+v, vocabulary %d", m.Config, m.Vocab.Size())
	}
	if _, err := m.Vocab.Encode("The light"); err != nil {
		t.Fatalf("default vocabulary cannot encode plain English: %v", err)
	}
}
