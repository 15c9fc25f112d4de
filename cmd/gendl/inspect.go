package main

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/engine"
	"github.com/gendl/gendl/runtime/tensor"
)

func inspectCommand() *cli.Command {
	return &cli.Command{
		Name:      "inspect",
		Usage:     "describe an ONNX model: versions, inputs and outputs, ops, parameters, metadata, unsupported ops",
		ArgsUsage: "MODEL.onnx",
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return fmt.Errorf("inspect: want one model file, got %d arguments (see gendl inspect --help)", c.NArg())
			}
			m, err := onnx.DecodeFile(c.Args().First())
			if err != nil {
				return err
			}
			return inspect(c.App.Writer, c.Args().First(), m)
		},
	}
}

func inspect(w io.Writer, path string, m *onnx.ModelProto) error {
	g := m.GetGraph()
	fmt.Fprintf(w, "model     %s\n", path)
	fmt.Fprintf(w, "ir        %d\n", m.GetIrVersion())
	var opsets []string
	for _, o := range m.GetOpsetImport() {
		d := o.GetDomain()
		if d == "" {
			d = "ai.onnx"
		}
		opsets = append(opsets, fmt.Sprintf("%s %d", d, o.GetVersion()))
	}
	fmt.Fprintf(w, "opsets    %s\n", strings.Join(opsets, ", "))
	if p := m.GetProducerName(); p != "" {
		fmt.Fprintf(w, "producer  %s\n", strings.TrimSpace(p+" "+m.GetProducerVersion()))
	}
	fmt.Fprintf(w, "graph     %q, %d nodes, %d initializers\n", g.GetName(), len(g.GetNode()), len(g.GetInitializer()))

	inits := map[string]bool{}
	var params int64
	var bytes int64
	for _, t := range g.GetInitializer() {
		inits[t.GetName()] = true
		n := int64(1)
		for _, d := range t.GetDims() {
			n *= d
		}
		params += n
		bytes += n * int64(max(tensorElemSize(t.GetDataType()), 1))
	}
	fmt.Fprintf(w, "params    %d (%s)\n", params, humanBytes(bytes))

	fmt.Fprintln(w, "\ninputs")
	for _, vi := range g.GetInput() {
		if inits[vi.GetName()] {
			continue
		}
		fmt.Fprintf(w, "  %s\n", describeValue(vi))
	}
	fmt.Fprintln(w, "outputs")
	for _, vi := range g.GetOutput() {
		fmt.Fprintf(w, "  %s\n", describeValue(vi))
	}

	hist := map[string]int{}
	for _, n := range g.GetNode() {
		key := n.GetOpType()
		if d := n.GetDomain(); d != "" && d != "ai.onnx" {
			key = d + "." + key
		}
		hist[key]++
	}
	keys := make([]string, 0, len(hist))
	for k := range hist {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if hist[keys[i]] != hist[keys[j]] {
			return hist[keys[i]] > hist[keys[j]]
		}
		return keys[i] < keys[j]
	})
	fmt.Fprintln(w, "ops")
	for _, k := range keys {
		fmt.Fprintf(w, "  %-22s %d\n", k, hist[k])
	}

	if md := m.GetMetadataProps(); len(md) > 0 {
		fmt.Fprintln(w, "metadata")
		for _, kv := range md {
			v := kv.GetValue()
			if len(v) > 200 {
				v = v[:200] + fmt.Sprintf("... (%d bytes)", len(kv.GetValue()))
			}
			fmt.Fprintf(w, "  %s = %s\n", kv.GetKey(), v)
		}
	}

	if un := engine.UnsupportedOps(m, nil); len(un) > 0 {
		fmt.Fprintf(w, "unsupported (%d)\n", len(un))
		for _, u := range un {
			fmt.Fprintf(w, "  %s\n", u)
		}
	} else {
		fmt.Fprintln(w, "unsupported  none: gendl supports every op of this model")
	}
	return nil
}

func describeValue(vi *onnx.ValueInfoProto) string {
	tt := vi.GetType().GetTensorType()
	if tt == nil {
		return vi.GetName() + ": (not a tensor)"
	}
	elem := strings.ToLower(onnx.DataTypeName(tt.GetElemType()))
	if dt := tensor.DType(tt.GetElemType()); dt.Supported() || dt == tensor.Float16 {
		elem = dt.String()
	}
	if tt.GetShape() == nil {
		return fmt.Sprintf("%s: %s[?]", vi.GetName(), elem)
	}
	var dims []string
	for _, d := range tt.GetShape().GetDim() {
		switch v := d.GetValue().(type) {
		case *onnx.TensorShapeProto_Dimension_DimValue:
			dims = append(dims, fmt.Sprint(v.DimValue))
		case *onnx.TensorShapeProto_Dimension_DimParam:
			dims = append(dims, v.DimParam)
		default:
			dims = append(dims, "?")
		}
	}
	return fmt.Sprintf("%s: %s[%s]", vi.GetName(), elem, strings.Join(dims, " "))
}

func tensorElemSize(dt int32) int {
	switch onnx.TensorProto_DataType(dt) {
	case onnx.TensorProto_DOUBLE, onnx.TensorProto_INT64, onnx.TensorProto_UINT64, onnx.TensorProto_COMPLEX64:
		return 8
	case onnx.TensorProto_FLOAT, onnx.TensorProto_INT32, onnx.TensorProto_UINT32:
		return 4
	case onnx.TensorProto_FLOAT16, onnx.TensorProto_BFLOAT16, onnx.TensorProto_INT16, onnx.TensorProto_UINT16:
		return 2
	case onnx.TensorProto_COMPLEX128:
		return 16
	}
	return 1
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
