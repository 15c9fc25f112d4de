package onnx

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/gendl/gendl/runtime/tensor"
)

// smallModel is a valid model with every part a file has: opset imports, a graph with an
// initializer, a node with attributes, inputs, outputs and metadata.
func smallModel(t *testing.T) *ModelProto {
	t.Helper()
	b := NewBuilder("small", 17)
	b.Input("x", tensor.Float32, 2, 3)
	b.Initializer("w", tensor.FromFloat32([]float32{1, 2, 3, 4, 5, 6}, 2, 3))
	b.Node("Add", []string{"x", "w"}, []string{"y"})
	b.Node("LeakyRelu", []string{"y"}, []string{"z"}, AttrFloat("alpha", 0.1))
	b.Output("z", tensor.Float32, 2, 3)
	b.Metadata("vocab", "abc")
	m, err := b.Model()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestDecodeRoundTrip(t *testing.T) {
	m := smallModel(t)
	data, err := Encode(m)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(got, m) {
		t.Fatalf("round trip changed the model:\nwant %v\n got %v", m, got)
	}
	// Encode is deterministic.
	again, err := Encode(got)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, data) {
		t.Error("encoding the decoded model gives different bytes")
	}
	got, err = DecodeReader(bytes.NewReader(data))
	if err != nil || !proto.Equal(got, m) {
		t.Errorf("DecodeReader: %v", err)
	}
}

func TestDecodeEmptyAndGarbage(t *testing.T) {
	wantErr(t, func() error { _, err := Decode(nil); return err }(), "empty model")
	wantErr(t, func() error { _, err := Decode([]byte{}); return err }(), "empty model")
	wantErr(t, func() error { _, err := DecodeReader(strings.NewReader("")); return err }(), "empty model")
	for _, g := range [][]byte{
		[]byte("this is not an ONNX model\n"),
		[]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"),
		bytes.Repeat([]byte{0xff}, 64),
		{0x0a},       // field 1, wire type 2 (ir_version must be a varint), no length
		{0x3a, 0x05}, // graph, length 5, no bytes
	} {
		if _, err := Decode(g); err == nil {
			t.Errorf("Decode(%q): no error", g)
		}
	}
	// Random bytes (fixed seed) are rejected; they cannot decode to a model with a graph.
	rng := rand.New(rand.NewPCG(5, 6))
	for i := range 1000 {
		b := make([]byte, 1+rng.IntN(200))
		for j := range b {
			b[j] = byte(rng.Uint32())
		}
		if _, err := Decode(b); err == nil {
			t.Errorf("random input %d decoded without error: % x", i, b)
		}
	}
	// A well-formed message without a graph is not a model.
	noGraph, err := proto.Marshal(&ModelProto{IrVersion: proto.Int64(8)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = Decode(noGraph)
	wantErr(t, err, "no graph")
}

// TestDecodeTruncated: every prefix of a model that cuts it before the end of its graph
// field is an error. (Deterministic marshalling writes fields in number order, so the bytes
// before the graph's end are exactly those of the model without its later fields.)
func TestDecodeTruncated(t *testing.T) {
	m := smallModel(t)
	data, err := Encode(m)
	if err != nil {
		t.Fatal(err)
	}
	head := &ModelProto{IrVersion: m.IrVersion, ProducerName: m.ProducerName, Graph: m.Graph}
	headData, err := Encode(head)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(data, headData) {
		t.Fatal("model bytes do not start with ir_version, producer_name, graph")
	}
	for n := 1; n < len(headData); n++ {
		if _, err := Decode(data[:n]); err == nil {
			t.Fatalf("prefix of %d of %d bytes decoded without error", n, len(data))
		}
	}
	// Cutting the last byte cuts the last field (metadata_props) short.
	if _, err := Decode(data[:len(data)-1]); err == nil {
		t.Error("model without its last byte decoded without error")
	}
}

func TestDecodeFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.onnx")
	m := smallModel(t)
	if err := EncodeFile(path, m); err != nil {
		t.Fatal(err)
	}
	got, err := DecodeFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(got, m) {
		t.Error("file round trip changed the model")
	}
	// The atomic write leaves no temporary file behind.
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only m.onnx", len(entries))
	}
	_, err = DecodeFile(filepath.Join(dir, "missing.onnx"))
	wantErr(t, err, "missing.onnx")
	bad := filepath.Join(dir, "bad.onnx")
	if err := os.WriteFile(bad, []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = DecodeFile(bad)
	wantErr(t, err, "not a valid ONNX model", "bad.onnx")
	// Writing into a directory that does not exist fails and says where.
	err = EncodeFile(filepath.Join(dir, "nodir", "m.onnx"), m)
	wantErr(t, err, "nodir")
}

func TestTensorFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "input_0.pb")
	want := tensor.FromInt64([]int64{3, -1, 4}, 3)
	if err := EncodeTensorFile(path, FromTensor("x", want)); err != nil {
		t.Fatal(err)
	}
	tp, err := DecodeTensorFile(path)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ToTensor(tp, TensorOptions{})
	if err != nil || !sameBits(got, want) {
		t.Fatalf("got %v, %v", got, err)
	}
	if err := os.WriteFile(path, []byte{0xff, 0xff}, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = DecodeTensorFile(path)
	wantErr(t, err, "not a valid TensorProto")
}

func TestOpsetVersion(t *testing.T) {
	m := &ModelProto{OpsetImport: []*OperatorSetIdProto{
		{Domain: proto.String("ai.onnx.ml"), Version: proto.Int64(3)},
		{Domain: proto.String("ai.onnx"), Version: proto.Int64(13)},
	}}
	for _, c := range []struct {
		domain string
		want   int64
	}{{"", 13}, {"ai.onnx", 13}, {"ai.onnx.ml", 3}, {"com.microsoft", 0}} {
		if got := OpsetVersion(m, c.domain); got != c.want {
			t.Errorf("OpsetVersion(%q) = %d, want %d", c.domain, got, c.want)
		}
	}
}
