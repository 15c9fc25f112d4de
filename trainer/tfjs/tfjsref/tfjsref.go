package tfjsref

import (
	"crypto/sha256"
	_ "embed"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // test images
	_ "image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/gendl/gendl/runtime/tensor"
)

//go:embed tfjs_ref.js
var script []byte

// Environment variables that locate the reference and make its absence fatal.
const (
	// EnvDir is the directory scripts/install-tfjs.sh installed TF.js into (default <repo>/.tfjs).
	EnvDir = "GENDL_TFJS_DIR"
	// EnvModel is InceptionV3's model.json (default <repo>/.models/inception_v3/tfjs/model.json).
	EnvModel = "GENDL_INCEPTION_TFJS"
	// EnvCheck=1 turns the comparisons with TF.js on (scripts/test.sh sets it): they take
	// minutes of CPU the first time, so the default test run skips them. With it set, a
	// missing TF.js, model or node is a test failure, not a skip.
	EnvCheck = "GENDL_TFJS_CHECK"
)

// RepoRoot walks up from the working directory to go.mod.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("tfjsref: no go.mod above the working directory")
		}
		dir = parent
	}
}

// Paths returns the @tensorflow/tfjs package directory and InceptionV3's model.json, checking
// that both and node exist; the error says how to install what is missing.
func Paths() (tfjsPkg, model string, err error) {
	root, err := RepoRoot()
	if err != nil {
		return "", "", err
	}
	dir := os.Getenv(EnvDir)
	if dir == "" {
		dir = filepath.Join(root, ".tfjs")
	}
	tfjsPkg = filepath.Join(dir, "node_modules", "@tensorflow", "tfjs")
	if _, err := os.Stat(filepath.Join(tfjsPkg, "package.json")); err != nil {
		return "", "", fmt.Errorf("tfjsref: TensorFlow.js not found in %s: run scripts/install-tfjs.sh (or set %s)", dir, EnvDir)
	}
	model = os.Getenv(EnvModel)
	if model == "" {
		model = filepath.Join(root, ".models", "inception_v3", "tfjs", "model.json")
	}
	if _, err := os.Stat(model); err != nil {
		return "", "", fmt.Errorf("tfjsref: %s not found: run scripts/fetch-inception.sh (or set %s)", model, EnvModel)
	}
	if _, err := exec.LookPath("node"); err != nil {
		return "", "", errors.New("tfjsref: node is not installed")
	}
	return tfjsPkg, model, nil
}

// Job is one TF.js run.
type Job struct {
	// TFJS is the @tensorflow/tfjs package directory; Model the model.json.
	TFJS, Model string
	// AnySize frees the input's height and width and truncates the model to what Outputs
	// need.
	AnySize bool
	// Outputs are the layers to dump.
	Outputs []string
	// Inputs are NHWC float32 tensors, each run separately.
	Inputs []*tensor.Tensor
	// CacheDir keeps results between runs ("" : none).
	CacheDir string
}

// Result holds TF.js's outputs: Outputs[i][layer] is the NHWC output of layer for input i.
type Result struct {
	Version string
	Outputs []map[string]*tensor.Tensor
	// CPU is the node process's user+system time (0 when the result came from the cache).
	CPU time.Duration
}

type resultFile struct {
	TFJS    string `json:"tfjs"`
	Backend string `json:"backend"`
	Outputs []struct {
		Input int    `json:"input"`
		Layer string `json:"layer"`
		Shape []int  `json:"shape"`
		File  string `json:"file"`
	} `json:"outputs"`
}

// key hashes everything a result depends on.
func (j *Job) key() (string, error) {
	h := sha256.New()
	h.Write(script)
	mj, err := os.ReadFile(j.Model)
	if err != nil {
		return "", err
	}
	h.Write(mj)
	var mf struct {
		WeightsManifest []struct {
			Paths []string `json:"paths"`
		} `json:"weightsManifest"`
	}
	if err := json.Unmarshal(mj, &mf); err != nil {
		return "", fmt.Errorf("tfjsref: %s: %w", j.Model, err)
	}
	for _, g := range mf.WeightsManifest {
		for _, p := range g.Paths {
			b, err := os.ReadFile(filepath.Join(filepath.Dir(j.Model), filepath.FromSlash(p)))
			if err != nil {
				return "", err
			}
			h.Write(b)
		}
	}
	pkg, _ := os.ReadFile(filepath.Join(j.TFJS, "package.json"))
	h.Write(pkg)
	fmt.Fprintf(h, "%v %q", j.AnySize, j.Outputs)
	for _, in := range j.Inputs {
		fmt.Fprintf(h, "%v", in.Shape)
		binary.Write(h, binary.LittleEndian, in.F32())
	}
	return hex.EncodeToString(h.Sum(nil))[:24], nil
}

// Run runs the job in node (or takes it from the cache).
func Run(j Job) (*Result, error) {
	key, err := j.key()
	if err != nil {
		return nil, err
	}
	if j.CacheDir != "" {
		if r, err := readResult(filepath.Join(j.CacheDir, key)); err == nil {
			return r, nil
		}
		if err := os.MkdirAll(j.CacheDir, 0o755); err != nil {
			return nil, err
		}
	}
	base := j.CacheDir
	if base == "" {
		base = os.TempDir()
	}
	work, err := os.MkdirTemp(base, "tfjsref-*")
	if err != nil {
		return nil, err
	}
	keep := false
	defer func() {
		if !keep {
			os.RemoveAll(work)
		}
	}()
	type input struct {
		File  string `json:"file"`
		Shape []int  `json:"shape"`
	}
	spec := struct {
		TFJS    string   `json:"tfjs"`
		Model   string   `json:"model"`
		AnySize bool     `json:"anySize"`
		Outputs []string `json:"outputs"`
		Inputs  []input  `json:"inputs"`
		OutDir  string   `json:"outDir"`
	}{TFJS: j.TFJS, Model: j.Model, AnySize: j.AnySize, Outputs: j.Outputs, OutDir: work}
	for i, in := range j.Inputs {
		f := filepath.Join(work, fmt.Sprintf("input_%d.f32", i))
		if err := os.WriteFile(f, f32Bytes(in.F32()), 0o644); err != nil {
			return nil, err
		}
		spec.Inputs = append(spec.Inputs, input{File: f, Shape: in.Shape})
	}
	jobFile := filepath.Join(work, "job.json")
	scriptFile := filepath.Join(work, "tfjs_ref.js")
	b, _ := json.Marshal(spec)
	if err := os.WriteFile(jobFile, b, 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(scriptFile, script, 0o644); err != nil {
		return nil, err
	}
	cmd := exec.Command("node", scriptFile, jobFile)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("tfjsref: node tfjs_ref.js: %v\n%s", err, out)
	}
	cpu := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	r, err := readResult(work)
	if err != nil {
		return nil, err
	}
	r.CPU = cpu
	if j.CacheDir != "" {
		final := filepath.Join(j.CacheDir, key)
		if err := os.Rename(work, final); err == nil {
			keep = true
		}
	}
	return r, nil
}

func readResult(dir string) (*Result, error) {
	b, err := os.ReadFile(filepath.Join(dir, "result.json"))
	if err != nil {
		return nil, err
	}
	var rf resultFile
	if err := json.Unmarshal(b, &rf); err != nil {
		return nil, fmt.Errorf("tfjsref: %s/result.json: %w", dir, err)
	}
	r := &Result{Version: rf.TFJS}
	for _, o := range rf.Outputs {
		// Files are named relative to the directory they ended up in (it may have moved).
		data, err := os.ReadFile(filepath.Join(dir, filepath.Base(o.File)))
		if err != nil {
			return nil, err
		}
		if len(data) != 4*tensor.Numel(o.Shape) {
			return nil, fmt.Errorf("tfjsref: %s: %d bytes for shape %v", o.File, len(data), o.Shape)
		}
		for len(r.Outputs) <= o.Input {
			r.Outputs = append(r.Outputs, map[string]*tensor.Tensor{})
		}
		r.Outputs[o.Input][o.Layer] = tensor.FromFloat32(bytesF32(data), o.Shape...)
	}
	return r, nil
}

func f32Bytes(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

func bytesF32(b []byte) []float32 {
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v
}

// LoadImage decodes a PNG or JPEG, resizes it to h x w by area averaging and returns it as
// NHWC [1, h, w, 3] RGB scaled to [-1, 1] (x/127.5 - 1, InceptionV3's preprocessing).
func LoadImage(path string, h, w int) (*tensor.Tensor, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("tfjsref: decoding %s: %w", path, err)
	}
	b := img.Bounds()
	sw, sh := b.Dx(), b.Dy()
	out := tensor.New(tensor.Float32, 1, h, w, 3)
	o := out.F32()
	for y := range h {
		y0, y1 := float64(y)*float64(sh)/float64(h), float64(y+1)*float64(sh)/float64(h)
		for x := range w {
			x0, x1 := float64(x)*float64(sw)/float64(w), float64(x+1)*float64(sw)/float64(w)
			var acc [3]float64
			area := 0.0
			for sy := int(y0); sy < int(math.Ceil(y1)) && sy < sh; sy++ {
				wy := math.Min(y1, float64(sy+1)) - math.Max(y0, float64(sy))
				for sx := int(x0); sx < int(math.Ceil(x1)) && sx < sw; sx++ {
					wx := math.Min(x1, float64(sx+1)) - math.Max(x0, float64(sx))
					r, g, bl, _ := img.At(b.Min.X+sx, b.Min.Y+sy).RGBA()
					acc[0] += wy * wx * float64(r>>8)
					acc[1] += wy * wx * float64(g>>8)
					acc[2] += wy * wx * float64(bl>>8)
					area += wy * wx
				}
			}
			for c := range 3 {
				o[(y*w+x)*3+c] = float32(acc[c]/area/127.5 - 1)
			}
		}
	}
	return out, nil
}

// ToNCHW transposes an NHWC tensor to NCHW (other ranks are returned as they are).
func ToNCHW(t *tensor.Tensor) *tensor.Tensor {
	if t.Rank() != 4 {
		return t
	}
	n, h, w, c := t.Shape[0], t.Shape[1], t.Shape[2], t.Shape[3]
	out := tensor.New(tensor.Float32, n, c, h, w)
	src, dst := t.F32(), out.F32()
	for b := range n {
		for y := range h {
			for x := range w {
				for ch := range c {
					dst[((b*c+ch)*h+y)*w+x] = src[((b*h+y)*w+x)*c+ch]
				}
			}
		}
	}
	return out
}

// Diff summarises how far got is from want.
type Diff struct {
	// MaxAbs is max |got-want|; MaxWant is max |want|; Rel is MaxAbs/MaxWant.
	MaxAbs, MaxWant, Rel float64
	// MaxElemRel is max |got-want| / (|want| + Floor) over the elements, with Floor = 1e-3 * MaxWant
	// (an element-wise relative difference that near-zero elements do not dominate).
	MaxElemRel float64
	// Bad counts the elements outside atol + rtol*|want| (Check's tolerances).
	Bad int
}

// Compare computes the Diff of two tensors of the same shape and counts the elements outside
// |got-want| <= atol + rtol*|want|.
func Compare(got, want *tensor.Tensor, atol, rtol float64) (Diff, error) {
	if !tensor.SameShape(got.Shape, want.Shape) {
		return Diff{}, fmt.Errorf("shape %v, want %v", got.Shape, want.Shape)
	}
	var d Diff
	g, w := got.F32(), want.F32()
	for _, x := range w {
		d.MaxWant = math.Max(d.MaxWant, math.Abs(float64(x)))
	}
	floor := 1e-3 * d.MaxWant
	for i := range g {
		gi, wi := float64(g[i]), float64(w[i])
		e := math.Abs(gi - wi)
		if math.IsNaN(e) {
			e = math.Inf(1)
		}
		d.MaxAbs = math.Max(d.MaxAbs, e)
		d.MaxElemRel = math.Max(d.MaxElemRel, e/(math.Abs(wi)+floor))
		if e > atol+rtol*math.Abs(wi) {
			d.Bad++
		}
	}
	if d.MaxWant > 0 {
		d.Rel = d.MaxAbs / d.MaxWant
	}
	return d, nil
}

func (d Diff) String() string {
	return fmt.Sprintf("max|d| %.3g (max|want| %.3g, ratio %.2g), max elementwise rel %.2g", d.MaxAbs, d.MaxWant, d.Rel, d.MaxElemRel)
}
