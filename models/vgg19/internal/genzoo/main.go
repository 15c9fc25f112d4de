// Command genzoo writes a VGG19 in the layout of the ONNX model zoo's vgg19-7.onnx (or another
// vgg19.Flavor) with seeded random weights: a stand-in for the real 548 MB file, which is in
// no registry, for timing and memory measurements (`gendl-train export vgg19`, style transfer).
//
//	go run ./models/vgg19/internal/genzoo -out /tmp/vgg19-7.onnx [-seed 1] [-channels 64] [-no-head] [-flavor zoo|caffe2|keras]
package main

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"

	"github.com/gendl/gendl/models/vgg19"
	"github.com/gendl/gendl/onnx"
)

func main() {
	out := flag.String("out", "vgg19-7.onnx", "file to write")
	seed := flag.Uint64("seed", 1, "random seed of the weights")
	channels := flag.Int("channels", vgg19.StandardWidth, "block 1's width (64: full size, 575 MB with the head)")
	noHead := flag.Bool("no-head", false, "stop at block5_pool (no classifier)")
	size := flag.Int("size", 224, "declared input height and width")
	flavor := flag.String("flavor", "zoo", "zoo (vgg19-7.onnx), caffe2 (vgg19-caffe2) or keras (NHWC, Keras names)")
	flag.Parse()
	fl := map[string]vgg19.Flavor{"zoo": vgg19.FlavorZoo, "caffe2": vgg19.FlavorCaffe2, "keras": vgg19.FlavorKeras}
	f, ok := fl[*flavor]
	if !ok {
		fmt.Fprintf(os.Stderr, "genzoo: -flavor %q, want zoo, caffe2 or keras\n", *flavor)
		os.Exit(2)
	}
	m, err := vgg19.BuildZoo(rand.New(rand.NewPCG(*seed, 19)), vgg19.ZooOptions{Channels: *channels, NoHead: *noHead, Height: *size, Width: *size, Flavor: f})
	if err == nil {
		err = onnx.EncodeFile(*out, m)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "genzoo:", err)
		os.Exit(1)
	}
}
