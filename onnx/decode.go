package onnx

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/gendl/gendl/internal/atomicfile"
	"google.golang.org/protobuf/proto"
)

// MaxModelBytes is the largest serialized model Decode accepts (protobuf's own hard limit is 2 GiB).
const MaxModelBytes = 2<<30 - 1

// Decode parses a serialized ModelProto.
func Decode(b []byte) (*ModelProto, error) {
	if len(b) == 0 {
		return nil, errors.New("onnx: empty model (0 bytes)")
	}
	if len(b) > MaxModelBytes {
		return nil, fmt.Errorf("onnx: model is %d bytes, over the 2 GiB protobuf limit", len(b))
	}
	m := &ModelProto{}
	if err := proto.Unmarshal(b, m); err != nil {
		return nil, fmt.Errorf("onnx: not a valid ONNX model: %w", err)
	}
	if m.Graph == nil {
		return nil, errors.New("onnx: model has no graph")
	}
	return m, nil
}

// DecodeReader reads and parses a serialized ModelProto.
func DecodeReader(r io.Reader) (*ModelProto, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxModelBytes+1))
	if err != nil {
		return nil, fmt.Errorf("onnx: reading model: %w", err)
	}
	return Decode(b)
}

// DecodeFile reads and parses the model in path.
func DecodeFile(path string) (*ModelProto, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("onnx: %w", err)
	}
	m, err := Decode(b)
	if err != nil {
		return nil, fmt.Errorf("%w (file %s)", err, path)
	}
	return m, nil
}

// Encode serializes a ModelProto deterministically.
func Encode(m *ModelProto) ([]byte, error) {
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("onnx: encoding model: %w", err)
	}
	return b, nil
}

// EncodeFile writes m to path atomically: a temporary file in the same directory is written,
// synced and renamed over path, so path never holds a half-written model.
func EncodeFile(path string, m *ModelProto) error {
	b, err := Encode(m)
	if err != nil {
		return err
	}
	return WriteFileAtomic(path, b)
}

// WriteFileAtomic writes data to path through a synced temporary file in the same directory and a
// rename, so path never holds a partial file. The file is readable by all (0644).
func WriteFileAtomic(path string, data []byte) error {
	if err := atomicfile.Write(path, data); err != nil {
		return fmt.Errorf("onnx: writing %s: %w", path, err)
	}
	return nil
}

// DecodeTensorFile reads a serialized TensorProto (an ONNX test_data_set input_i.pb/output_i.pb).
func DecodeTensorFile(path string) (*TensorProto, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("onnx: %w", err)
	}
	t := &TensorProto{}
	if err := proto.Unmarshal(b, t); err != nil {
		return nil, fmt.Errorf("onnx: %s is not a valid TensorProto: %w", path, err)
	}
	return t, nil
}

// EncodeTensorFile writes a TensorProto to path atomically.
func EncodeTensorFile(path string, t *TensorProto) error {
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(t)
	if err != nil {
		return fmt.Errorf("onnx: encoding tensor: %w", err)
	}
	return WriteFileAtomic(path, b)
}

// OpsetVersion returns the opset version the model imports for a domain ("" or "ai.onnx" for
// the default domain), or 0 if it imports none.
func OpsetVersion(m *ModelProto, domain string) int64 {
	for _, o := range m.GetOpsetImport() {
		d := o.GetDomain()
		if d == "ai.onnx" {
			d = ""
		}
		want := domain
		if want == "ai.onnx" {
			want = ""
		}
		if d == want {
			return o.GetVersion()
		}
	}
	return 0
}
