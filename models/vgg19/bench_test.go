package vgg19

import (
	"math/rand/v2"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/gendl/gendl/onnx"
)

// BenchmarkExportFile exports the default layers from a full-size zoo-layout VGG19 file
// (575 MB, head included, written once) as `gendl-train export vgg19` does: read, decode,
// analyse, extract, plan, encode, write. It reports the process's peak resident memory,
// which includes building the source model.
//
//	go test ./models/vgg19 -run XXX -bench ExportFile -benchtime 3x
func BenchmarkExportFile(b *testing.B) {
	dir := b.TempDir()
	src := filepath.Join(dir, "vgg19-7.onnx")
	m, err := BuildZoo(rand.New(rand.NewPCG(1, 19)), ZooOptions{})
	if err != nil {
		b.Fatal(err)
	}
	if err := onnx.EncodeFile(src, m); err != nil {
		b.Fatal(err)
	}
	m = nil
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := ExportFile(ExportConfig{From: src, Out: filepath.Join(dir, "features.onnx")}); err != nil {
			b.Fatal(err)
		}
	}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err == nil {
		b.ReportMetric(float64(ru.Maxrss)/1024, "peak-RSS-MiB")
	}
}
