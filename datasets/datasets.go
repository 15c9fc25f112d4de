package datasets

import (
	"errors"
	"fmt"
	"image"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/gendl/gendl/datasets/mnist"
	"github.com/gendl/gendl/imaging"
	"github.com/gendl/gendl/runtime/tensor"
)

// Dataset is a set of images with labels.
type Dataset struct {
	// Name is "mnist", "fashion-mnist" or the folder's path.
	Name  string
	Split string
	// Images is a float32 tensor [N, C, H, W] with values in [0, 1].
	Images *tensor.Tensor
	// Labels holds N class indices into Classes.
	Labels  []uint8
	Classes []string
	// N images of C channels, H x W pixels.
	N, C, H, W int
}

// Image returns image i as a tensor [1, C, H, W] that shares the dataset's memory.
func (d *Dataset) Image(i int) *tensor.Tensor {
	n := d.C * d.H * d.W
	return tensor.FromFloat32(d.Images.F32()[i*n:(i+1)*n], 1, d.C, d.H, d.W)
}

// Batch returns images idx as a fresh tensor [len(idx), C, H, W].
func (d *Dataset) Batch(idx []int) *tensor.Tensor {
	n := d.C * d.H * d.W
	t := tensor.New(tensor.Float32, len(idx), d.C, d.H, d.W)
	src, dst := d.Images.F32(), t.F32()
	for k, i := range idx {
		copy(dst[k*n:(k+1)*n], src[i*n:(i+1)*n])
	}
	return t
}

// ClassIndex returns the index of the class named name, or -1.
func (d *Dataset) ClassIndex(name string) int {
	return slices.Index(d.Classes, name)
}

// OfClass returns the indices of the images labelled k, at most limit of them (0: all).
func (d *Dataset) OfClass(k, limit int) []int {
	var idx []int
	for i, l := range d.Labels {
		if int(l) == k {
			idx = append(idx, i)
			if limit > 0 && len(idx) == limit {
				break
			}
		}
	}
	return idx
}

// Names of the built-in datasets.
const (
	MNIST        = "mnist"
	FashionMNIST = "fashion-mnist"
)

// Splits.
const (
	Train = "train"
	Test  = "test"
	All   = "all"
)

// Options configure Load.
type Options struct {
	// MNISTDir overrides where the MNIST (or, for "fashion-mnist", Fashion-MNIST) IDX files
	// are read from.
	MNISTDir string
	// Limit keeps at most this many images (0: all).
	Limit int
	// Folders only: Height and Width of the resized images (0: 28 each); Channels 1
	// (grayscale, the default) or 3 (RGB); Crop center-crops to the target aspect ratio before
	// resizing (otherwise the image is stretched).
	Height, Width, Channels int
	Crop                    bool
}

// Load reads a built-in dataset by name ("mnist", "fashion-mnist") or a folder of images by
// path; split is "train", "test" or (folders only) "all".
func Load(name, split string, opt Options) (*Dataset, error) {
	switch strings.ToLower(name) {
	case MNIST, FashionMNIST, "fashion_mnist", "fashion":
		kind := mnist.Digits
		if strings.ToLower(name) != MNIST {
			kind = mnist.Fashion
		}
		sp, err := mnist.ParseSplit(split)
		if err != nil {
			return nil, fmt.Errorf("datasets: %s: unknown split %q: want %q or %q", kind, split, Train, Test)
		}
		s, err := mnist.LoadKind(kind, sp, mnist.Options{Dir: opt.MNISTDir, Limit: opt.Limit})
		if err != nil {
			return nil, fmt.Errorf("datasets: %w", err)
		}
		return FromMNIST(s), nil
	}
	st, err := os.Stat(name)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("datasets: %q is neither a dataset name (%s, %s) nor an existing directory", name, MNIST, FashionMNIST)
		}
		return nil, fmt.Errorf("datasets: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("datasets: %s is a file: want a dataset name (%s, %s) or a directory of images", name, MNIST, FashionMNIST)
	}
	return LoadFolder(name, split, opt)
}

// FromMNIST converts a raw MNIST-layout set to a Dataset with values in [0, 1].
func FromMNIST(s *mnist.Set) *Dataset {
	t := tensor.New(tensor.Float32, s.N, 1, s.H, s.W)
	dst := t.F32()
	for i, p := range s.Pixels {
		dst[i] = float32(p) / 255
	}
	return &Dataset{Name: string(s.Kind), Split: string(s.Split), Images: t, Labels: s.Labels,
		Classes: s.Classes, N: s.N, C: 1, H: s.H, W: s.W}
}

// LoadFolder reads the images under dir (see the package documentation).
func LoadFolder(dir, split string, opt Options) (*Dataset, error) {
	if split != Train && split != Test && split != All {
		return nil, fmt.Errorf("datasets: unknown split %q: want %q, %q or %q", split, Train, Test, All)
	}
	if opt.Height == 0 {
		opt.Height = 28
	}
	if opt.Width == 0 {
		opt.Width = 28
	}
	if opt.Channels == 0 {
		opt.Channels = 1
	}
	if opt.Channels != 1 && opt.Channels != 3 {
		return nil, fmt.Errorf("datasets: %d channels: want 1 (grayscale) or 3 (RGB)", opt.Channels)
	}
	if opt.Height < 1 || opt.Width < 1 || opt.Height*opt.Width > 1<<24 {
		return nil, fmt.Errorf("datasets: image size %dx%d: want 1 to 4096 pixels a side", opt.Width, opt.Height)
	}
	files, classes, err := listImages(dir)
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("datasets: %s holds no .png, .jpg, .jpeg or .gif images (directly or one level down)", dir)
	}
	var keep []labelled
	for i, f := range files {
		test := i%10 == 9
		if split == All || (split == Test) == test {
			keep = append(keep, f)
		}
	}
	if opt.Limit > 0 && len(keep) > opt.Limit {
		keep = keep[:opt.Limit]
	}
	if len(keep) == 0 {
		return nil, fmt.Errorf("datasets: %s has %d images, none in the %q split (every tenth image is a test image)", dir, len(files), split)
	}
	n := opt.Channels * opt.Height * opt.Width
	if int64(len(keep))*int64(n) > int64(tensor.MaxElements) {
		return nil, fmt.Errorf("datasets: %d images of %dx%dx%d exceed the tensor size cap: use a smaller size or a limit", len(keep), opt.Channels, opt.Height, opt.Width)
	}
	t := tensor.New(tensor.Float32, len(keep), opt.Channels, opt.Height, opt.Width)
	labels := make([]uint8, len(keep))
	for i, f := range keep {
		img, err := imaging.DecodeFile(f.path)
		if err != nil {
			return nil, fmt.Errorf("datasets: %w", err)
		}
		if opt.Crop {
			img = imaging.CenterCrop(img, opt.Width, opt.Height)
		}
		img, err = imaging.Resize(img, opt.Width, opt.Height, imaging.CatmullRom)
		if err != nil {
			return nil, fmt.Errorf("datasets: %s: %w", f.path, err)
		}
		x, err := imaging.ToTensor([]image.Image{img}, opt.Channels, imaging.Unit())
		if err != nil {
			return nil, fmt.Errorf("datasets: %s: %w", f.path, err)
		}
		copy(t.F32()[i*n:(i+1)*n], x.F32())
		labels[i] = f.label
	}
	return &Dataset{Name: dir, Split: split, Images: t, Labels: labels, Classes: classes,
		N: len(keep), C: opt.Channels, H: opt.Height, W: opt.Width}, nil
}

type labelled struct {
	path  string
	label uint8
}

// listImages lists the images directly in dir (class "") and in its subdirectories (class =
// subdirectory name), sorted by path.
func listImages(dir string) ([]labelled, []string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("datasets: %w", err)
	}
	var top []string
	sub := map[string][]string{}
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".") {
			continue
		}
		p := filepath.Join(dir, e.Name())
		if e.IsDir() {
			inner, err := os.ReadDir(p)
			if err != nil {
				return nil, nil, fmt.Errorf("datasets: %w", err)
			}
			for _, f := range inner {
				if !f.IsDir() && !strings.HasPrefix(f.Name(), ".") && imaging.IsImageFile(f.Name()) {
					sub[e.Name()] = append(sub[e.Name()], filepath.Join(p, f.Name()))
				}
			}
			continue
		}
		if imaging.IsImageFile(e.Name()) {
			top = append(top, p)
		}
	}
	var classes []string
	if len(top) > 0 {
		classes = append(classes, "")
	}
	names := make([]string, 0, len(sub))
	for n := range sub {
		names = append(names, n)
	}
	sort.Strings(names)
	classes = append(classes, names...)
	if len(classes) > 256 {
		return nil, nil, fmt.Errorf("datasets: %s has %d classes (subdirectories with images), at most 256 are supported", dir, len(classes))
	}
	var out []labelled
	for _, p := range top {
		out = append(out, labelled{p, 0})
	}
	for _, n := range names {
		k := uint8(slices.Index(classes, n))
		for _, p := range sub[n] {
			out = append(out, labelled{p, k})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].path < out[j].path })
	return out, classes, nil
}

// LoadTrainTest loads the training and test splits of name with opt, keeping at most
// testLimit test images (0: all).
func LoadTrainTest(name string, opt Options, testLimit int) (train, test *Dataset, err error) {
	if train, err = Load(name, Train, opt); err != nil {
		return nil, nil, err
	}
	opt.Limit = testLimit
	if test, err = Load(name, Test, opt); err != nil {
		return nil, nil, err
	}
	return train, test, nil
}

// Check reports whether d is consistent — at least one image and N·C·H·W values in Images —
// and, with labels, whether it has N labels, each an index into classes (the training
// set's, which a test set must share).
func (d *Dataset) Check(labels bool, classes []string) error {
	if d.Images == nil || d.N < 1 || d.Images.Len() != d.N*d.C*d.H*d.W {
		return fmt.Errorf("datasets: %s: %d images of %dx%dx%d but %v values", d.Name, d.N, d.C, d.H, d.W, d.Images)
	}
	if !labels {
		return nil
	}
	if len(d.Labels) != d.N {
		return fmt.Errorf("datasets: %s: %d images but %d labels", d.Name, d.N, len(d.Labels))
	}
	for i, l := range d.Labels {
		if int(l) >= len(classes) {
			return fmt.Errorf("datasets: %s: image %d has label %d, but there are %d classes", d.Name, i, l, len(classes))
		}
	}
	return nil
}
