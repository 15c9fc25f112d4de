//go:build ort

package ortcheck

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/gendl/gendl/onnx"
	"github.com/gendl/gendl/runtime/engine"
	"github.com/gendl/gendl/runtime/tensor"
)

// VGG19 (Simonyan & Zisserman 2014, configuration E) in the layout of the ONNX model zoo's
// vgg19-7.onnx: IR version 3, opset 7, NCHW input [1, 3, 224, 224], every weight an
// initializer that is also listed in graph.input (the Builder does that for IR < 4). Five
// blocks of 3x3 Conv (pad 1) + Relu, each closed by a 2x2 MaxPool of stride 2, then
// Flatten, Gemm 25088->4096, Relu, Gemm 4096->4096, Relu, Gemm 4096->1000 and Softmax. The
// weights are random (He-uniform, so activations keep their scale through the 16 convs):
// the zoo's file is 548 MB and in no registry, and speed does not depend on the values.

// vggOpset is the opset of the zoo's vgg19-7.onnx; with it the Builder writes IR version 3.
const vggOpset = 7

// vggBlocks lists the output channels of each block's convolutions.
var vggBlocks = [][]int{
	{64, 64},
	{128, 128},
	{256, 256, 256, 256},
	{512, 512, 512, 512},
	{512, 512, 512, 512},
}

// vggFC lists the units of the three Gemm layers of the head.
var vggFC = []int{4096, 4096, 1000}

// vggPart selects a slice of VGG19: blocks first..last (0-based, inclusive) at the input size
// those blocks see in the full network, and the head when head is set (then last must be 4).
type vggPart struct {
	name        string
	first, last int
	head        bool
}

var (
	vggFull  = vggPart{"full", 0, 4, true}
	vggParts = []vggPart{
		{"block1", 0, 0, false}, {"block2", 1, 1, false}, {"block3", 2, 2, false},
		{"block4", 3, 3, false}, {"block5", 4, 4, false},
	}
)

// inShape returns the input shape of part: [1, C, H, W] with H = W = 224 / 2^first.
func (p vggPart) inShape() []int {
	c := 3
	if p.first > 0 {
		c = vggBlocks[p.first-1][len(vggBlocks[p.first-1])-1]
	}
	return []int{1, c, 224 >> p.first, 224 >> p.first}
}

// flops counts 2 * multiply-adds of the part's Convs and Gemms (the usual convention;
// bias, Relu, pooling and Softmax are under 0.1% and not counted).
func (p vggPart) flops() float64 {
	shape := p.inShape()
	c, hw := shape[1], shape[2]
	var f float64
	for b := p.first; b <= p.last; b++ {
		for _, cout := range vggBlocks[b] {
			f += 2 * float64(c) * float64(cout) * 9 * float64(hw*hw)
			c = cout
		}
		hw /= 2
	}
	if p.head {
		in := c * hw * hw
		for _, units := range vggFC {
			f += 2 * float64(in) * float64(units)
			in = units
		}
	}
	return f
}

// buildVGG builds the part with random weights from rng.
func buildVGG(p vggPart, rng *rand.Rand) (*onnx.ModelProto, error) {
	b := onnx.NewBuilder("vgg19_"+p.name, vggOpset)
	shape := p.inShape()
	b.Input("data", tensor.Float32, ints64(shape)...)
	cur := "data"
	c, hw := shape[1], shape[2]
	heUniform := func(name string, shape []int, fanIn int) {
		b.Initializer(name, randTensor(rng, shape, math.Sqrt(6/float64(fanIn))))
	}
	for bl := p.first; bl <= p.last; bl++ {
		for i, cout := range vggBlocks[bl] {
			layer := fmt.Sprintf("conv%d_%d", bl+1, i+1)
			heUniform(layer+"_w", []int{cout, c, 3, 3}, c*9)
			b.Initializer(layer+"_b", randTensor(rng, []int{cout}, 0.01))
			b.Node("Conv", []string{cur, layer + "_w", layer + "_b"}, []string{layer},
				onnx.AttrInts("kernel_shape", 3, 3), onnx.AttrInts("pads", 1, 1, 1, 1), onnx.AttrInts("strides", 1, 1))
			b.Node("Relu", []string{layer}, []string{layer + "_relu"})
			cur, c = layer+"_relu", cout
		}
		pool := fmt.Sprintf("pool%d", bl+1)
		b.Node("MaxPool", []string{cur}, []string{pool},
			onnx.AttrInts("kernel_shape", 2, 2), onnx.AttrInts("strides", 2, 2), onnx.AttrInts("pads", 0, 0, 0, 0))
		cur, hw = pool, hw/2
	}
	outShape := []int{1, c, hw, hw}
	if p.head {
		b.Node("Flatten", []string{cur}, []string{"flatten"}, onnx.AttrInt("axis", 1))
		cur = "flatten"
		in := c * hw * hw
		for i, units := range vggFC {
			layer := fmt.Sprintf("fc%d", i+6)
			heUniform(layer+"_w", []int{units, in}, in)
			b.Initializer(layer+"_b", randTensor(rng, []int{units}, 0.01))
			b.Node("Gemm", []string{cur, layer + "_w", layer + "_b"}, []string{layer}, onnx.AttrInt("transB", 1))
			cur, in = layer, units
			if i < len(vggFC)-1 {
				b.Node("Relu", []string{layer}, []string{layer + "_relu"})
				cur = layer + "_relu"
			}
		}
		b.Node("Softmax", []string{cur}, []string{"prob"}, onnx.AttrInt("axis", 1))
		cur, outShape = "prob", []int{1, vggFC[len(vggFC)-1]}
	}
	b.Output(cur, tensor.Float32, ints64(outShape)...)
	return b.Model()
}

// vggFiles caches the models written to a temporary directory, removed by TestMain.
var vggFiles struct {
	mu    sync.Mutex
	dir   string
	paths map[string]string
}

func removeVGGFiles() {
	vggFiles.mu.Lock()
	defer vggFiles.mu.Unlock()
	if vggFiles.dir != "" {
		os.RemoveAll(vggFiles.dir)
	}
}

// vggFile builds part once per process (seed fixed per part) and saves it as an .onnx file.
func vggFile(tb testing.TB, p vggPart) string {
	tb.Helper()
	vggFiles.mu.Lock()
	defer vggFiles.mu.Unlock()
	if path, ok := vggFiles.paths[p.name]; ok {
		return path
	}
	if vggFiles.dir == "" {
		dir, err := os.MkdirTemp("", "gendl-vgg-")
		if err != nil {
			tb.Fatal(err)
		}
		vggFiles.dir, vggFiles.paths = dir, map[string]string{}
	}
	m, err := buildVGG(p, rand.New(rand.NewPCG(netSeed, uint64(p.first*10+p.last))))
	if err != nil {
		tb.Fatal(err)
	}
	path := filepath.Join(vggFiles.dir, "vgg19_"+p.name+".onnx")
	if err := onnx.EncodeFile(path, m); err != nil {
		tb.Fatal(err)
	}
	vggFiles.paths[p.name] = path
	return path
}

// vggInput is the benchmark's image: uniform in [-1, 1] (a normalised image's range).
func vggInput(p vggPart) *tensor.Tensor {
	return randTensor(rand.New(rand.NewPCG(netSeed, 7)), p.inShape(), 1)
}

// loadVGG loads the saved part in both executors, each from the file, ORT with one thread.
func loadVGG(tb testing.TB, p vggPart) (*engine.Plan, *ortModel) {
	return loadVGGThreads(tb, p, 1)
}

// loadVGGThreads is loadVGG with ORT on threads intra-op threads.
func loadVGGThreads(tb testing.TB, p vggPart, threads int) (*engine.Plan, *ortModel) {
	tb.Helper()
	path := vggFile(tb, p)
	plan, err := engine.LoadFile(path, engine.Options{})
	if err != nil {
		tb.Skipf("gendl cannot plan VGG19 (%s) yet: %v", p.name, err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	om, err := newORTModelThreads(plan.Model, data, threads)
	if err != nil {
		tb.Fatalf("ORT: %v", err)
	}
	return plan, om
}

// newORTModelThreads is newORTModel with threads intra-op threads (and one inter-op
// thread): the thread budget of a gendl session with SessionOptions.Threads = threads.
func newORTModelThreads(m *onnx.ModelProto, data []byte, threads int) (*ortModel, error) {
	if threads == 1 {
		return newORTModel(m, data)
	}
	opts, err := ort.NewSessionOptions()
	if err != nil {
		return nil, err
	}
	defer opts.Destroy()
	if err := opts.SetIntraOpNumThreads(threads); err != nil {
		return nil, err
	}
	if err := opts.SetInterOpNumThreads(1); err != nil {
		return nil, err
	}
	om := &ortModel{inputs: feedNames(m), outputs: outputNames(m)}
	om.sess, err = ort.NewDynamicAdvancedSessionWithONNXData(data, om.inputs, om.outputs, opts)
	if err != nil {
		return nil, err
	}
	return om, nil
}

// benchThreadsEnv lists the thread counts the VGG19 benchmarks run, comma-separated
// (default "1"); scripts/bench-vgg.sh -threads sets it.
const benchThreadsEnv = "GENDL_BENCH_THREADS"

// benchThreads parses benchThreadsEnv.
func benchThreads(tb testing.TB) []int {
	v := os.Getenv(benchThreadsEnv)
	if v == "" {
		return []int{1}
	}
	var ts []int
	for _, f := range strings.Split(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			tb.Fatalf("%s=%q: want a comma-separated list of thread counts >= 1", benchThreadsEnv, v)
		}
		ts = append(ts, n)
	}
	return ts
}

// threadCPU returns the CPU time (user + system) the calling OS thread has used.
func threadCPU(tb testing.TB) time.Duration { return rusageCPU(tb, syscall.RUSAGE_THREAD) }

// rusageCPU returns the CPU time (user + system) of the calling thread
// (syscall.RUSAGE_THREAD) or of the whole process (syscall.RUSAGE_SELF).
func rusageCPU(tb testing.TB, who int) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(who, &ru); err != nil {
		tb.Fatalf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// timeLoop runs one executor's benchmark loop after a warm-up run, and reports GFLOP/s over
// the wall time and over the CPU time of the benchmark's OS thread. Both executors compute
// on the calling thread (gendl with Threads 1 starts no goroutine; ORT with one intra-op
// thread runs its kernels on the caller), so the thread's CPU time is their compute time
// even when other processes share the cores, which wall time is not.
//
// With threads > 1 the CPU time is the whole process's (the executors' worker threads
// included; ORT's workers spin while they wait, which counts): then GFLOP/cpu-s is a rate per
// busy core, and only wall time on an otherwise idle machine shows the speed-up.
func timeLoop(b *testing.B, flops float64, threads int, run func() error) {
	who := syscall.RUSAGE_THREAD
	if threads > 1 {
		who = syscall.RUSAGE_SELF
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := run(); err != nil { // warm-up: session buffers, ORT's first-run allocations
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := rusageCPU(b, who)
	for b.Loop() {
		if err := run(); err != nil {
			b.Fatal(err)
		}
	}
	cpu := rusageCPU(b, who) - cpu0
	b.ReportMetric(flops/1e9, "GFLOP/op")
	b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
	b.ReportMetric(flops*float64(b.N)/cpu.Seconds()/1e9, "GFLOP/cpu-s")
}

// benchVGG runs the gendl and ORT sub-benchmarks of a part for each thread count of
// benchThreads (sub-benchmark threads=N): the same thread count in both (gendl's
// SessionOptions.Threads, ORT's intra-op threads), the same model file and input, FLOPs from
// vggPart.flops.
func benchVGG(b *testing.B, p vggPart) {
	requireORT(b)
	for _, threads := range benchThreads(b) {
		b.Run(fmt.Sprintf("threads=%d", threads), func(b *testing.B) {
			plan, om := loadVGGThreads(b, p, threads)
			defer om.Destroy()
			feeds := map[string]*tensor.Tensor{plan.Inputs[0].Name: vggInput(p)}
			b.Run("gendl", func(b *testing.B) {
				s := plan.NewSession(engine.SessionOptions{Threads: threads})
				timeLoop(b, p.flops(), threads, func() error { _, err := s.Run(feeds); return err })
			})
			b.Run("ort", func(b *testing.B) {
				timeLoop(b, p.flops(), threads, func() error { _, err := om.run(feeds, nil); return err })
			})
		})
	}
}

// BenchmarkVGG19 times one forward pass of the full VGG19 at 224x224, batch 1.
func BenchmarkVGG19(b *testing.B) { benchVGG(b, vggFull) }

// BenchmarkVGG19Block times each conv block alone (its convs, Relus and pool) at the input
// size it sees in the full network.
func BenchmarkVGG19Block(b *testing.B) {
	for _, p := range vggParts {
		b.Run(p.name, func(b *testing.B) { benchVGG(b, p) })
	}
}

// TestVGG19VsORT checks that the benchmarked models compute the same thing in both
// executors: each block, then the full network (whose head, Gemm and Softmax, follows
// block 5). gendl's naive convs make this take tens of seconds, so -short skips it.
//
// Tolerance: netATol + netRTol*|ort|, as for the random nets. Each conv output sums 9*Cin
// <= 4608 products, more than in the random nets, but the He-scaled activations stay O(1)
// and the share of the tolerance used stays under 0.05 (logged).
func TestVGG19VsORT(t *testing.T) {
	requireORT(t)
	if testing.Short() {
		t.Skip("-short: the VGG19 check runs gendl's naive convs for seconds")
	}
	for _, p := range append(append([]vggPart{}, vggParts...), vggFull) {
		t.Run(p.name, func(t *testing.T) {
			plan, om := loadVGG(t, p)
			defer om.Destroy()
			pr := &pair{plan: plan, sess: plan.NewSession(engine.SessionOptions{Threads: 1}), ort: om}
			feeds := map[string]*tensor.Tensor{plan.Inputs[0].Name: vggInput(p)}
			got, want, err := pr.run(feeds)
			if err != nil {
				t.Fatal(err)
			}
			var me maxErr
			if err := compareNet(pr, got, want, &me); err != nil {
				t.Fatal(err)
			}
			t.Logf("%s agrees: %v", p.name, &me)
		})
	}
}
