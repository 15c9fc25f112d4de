package tfjsref

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/gendl/gendl/runtime/tensor"
)

// The InceptionV3 comparisons (trainer/tfjs against TF.js; runtime/ortcheck against ONNX
// Runtime and TF.js) share these, so that both hit the same cached TF.js results.
var (
	// InceptionLayers are compared on the whole model at 299x299: the first block, the
	// mixed blocks DeepDream uses, two later (nsfwjs fine-tuned) blocks and the classifier.
	InceptionLayers = []string{"activation_1", "mixed0", "mixed2", "mixed3", "mixed4", "mixed5", "mixed7", "mixed10", "dense_3"}
	// TruncatedLayers are compared on the model cut at mixed5 with a free input size.
	TruncatedLayers = []string{"activation_1", "mixed2", "mixed3", "mixed4", "mixed5"}
	// InceptionImages are read from ../shared/data/images beside the repository.
	InceptionImages = []string{"chelsea.png", "grace_hopper.jpg", "starry_night.jpg"}
	// AnySize is the truncated comparison's input (height, width): odd, non-square, above
	// InceptionV3's minimum of 75.
	AnySize = [2]int{131, 97}
)

// RandomInput returns a [1, h, w, 3] NHWC input uniform in [-1, 1].
func RandomInput(seed uint64, h, w int) *tensor.Tensor {
	rng := rand.New(rand.NewPCG(seed, 0))
	x := tensor.New(tensor.Float32, 1, h, w, 3)
	for i := range x.F32() {
		x.F32()[i] = float32(rng.Float64()*2 - 1)
	}
	return x
}

// ReferenceInputs returns the test images that exist at 299x299 ([-1, 1], NHWC), then one
// random input (seed 1), with their names; missing names the images not found.
func ReferenceInputs() (ins []*tensor.Tensor, names, missing []string, err error) {
	root, err := RepoRoot()
	if err != nil {
		return nil, nil, nil, err
	}
	for _, name := range InceptionImages {
		p := filepath.Join(root, "..", "shared", "data", "images", name)
		if _, err := os.Stat(p); err != nil {
			missing = append(missing, p)
			continue
		}
		x, err := LoadImage(p, 299, 299)
		if err != nil {
			return nil, nil, nil, err
		}
		ins = append(ins, x)
		names = append(names, name)
	}
	ins = append(ins, RandomInput(1, 299, 299))
	names = append(names, "random")
	return ins, names, missing, nil
}

// CacheDir is where Run keeps TF.js results: <repo>/.models/tfjs-ref.
func CacheDir() (string, error) {
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, ".models", "tfjs-ref"), nil
}

// InceptionReference runs (or reads from the cache) TF.js on the whole model with
// ReferenceInputs, dumping InceptionLayers.
func InceptionReference(pkg, model string) (*Result, []*tensor.Tensor, []string, error) {
	ins, names, _, err := ReferenceInputs()
	if err != nil {
		return nil, nil, nil, err
	}
	cache, err := CacheDir()
	if err != nil {
		return nil, nil, nil, err
	}
	r, err := Run(Job{TFJS: pkg, Model: model, Outputs: InceptionLayers, Inputs: ins, CacheDir: cache})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("tfjsref: InceptionV3 in TF.js: %w", err)
	}
	return r, ins, names, nil
}

// TruncatedReference runs (or reads from the cache) TF.js on the model cut at mixed5 with a
// free input size, on RandomInput(2, AnySize), dumping TruncatedLayers.
func TruncatedReference(pkg, model string) (*Result, *tensor.Tensor, error) {
	x := RandomInput(2, AnySize[0], AnySize[1])
	cache, err := CacheDir()
	if err != nil {
		return nil, nil, err
	}
	r, err := Run(Job{TFJS: pkg, Model: model, AnySize: true, Outputs: TruncatedLayers, Inputs: []*tensor.Tensor{x}, CacheDir: cache})
	if err != nil {
		return nil, nil, fmt.Errorf("tfjsref: InceptionV3 through mixed5 in TF.js: %w", err)
	}
	return r, x, nil
}
