// Package style is neural style transfer (Gatys, Ecker & Bethge 2015) as Chollet's Deep
// Learning with Python (1st ed., section 8.3) does it, on gendl's runtime: the generated
// image is optimised through a frozen feature network (runtime/grad gives the gradients)
// with L-BFGS (gonum.org/v1/gonum/optimize) or Adam. No Gorgonia, no cgo.
//
//	net, err := style.OpenNetwork("vgg19-7.onnx", style.NetworkOptions{})   // or the InceptionV3
//	content, styleImg, err := style.PrepareImages(photo, painting, 400)       // [1,3,H,W], RGB in [0,255]
//	tr, err := style.NewTransfer(net, content, styleImg, style.DefaultConfig()) // targets computed once
//	x, _ := style.InitImage(style.InitContent, content, seed)
//	loss, err := tr.Run(x, style.Options{Rounds: 20, Iterations: 20})         // x is optimised in place
//
// # The loss
//
// With F_l the features of layer l of the generated image x (a [c, n] matrix: c channels,
// n = h·w positions), P those of the content image and G(F) = F·Fᵀ the Gram matrix:
//
//	L = content_weight · Σ (F_content - P_content)²
//	  + style_weight/|S| · Σ_{l∈S} Σ (G(F_l) - G(S_l))² / (4 · norm_l²)
//	  + tv_weight · Σ_{c, i<H-1, j<W-1} ((x[c,i,j]-x[c,i+1,j])² + (x[c,i,j]-x[c,i,j+1])²)^1.25
//
// where S_l are the style image's features. The book's normalisation is norm_l = 3·H·W for
// every layer (its style_loss uses the image's channels and size, not the layer's), and that
// is the default; NormLayer uses each layer's c·n instead. Weights 0.025, 1 and 1e-4 are the
// book's; they were set for Keras's VGG19 on images in [0, 255], so the image here is RGB in
// [0, 255] too (the total-variation term reads it directly) and each network's own
// preprocessing maps it to its input. The gradients of the three terms with respect to the
// features and the image are written out in loss.go and checked against float64 references
// and finite differences; the gradient through the network is runtime/grad's, and the whole
// gradient is checked against finite differences of the loss on tiny networks.
//
// # Networks
//
// OpenNetwork recognises a VGG19 with models/vgg19 (the ONNX model zoo's vgg19-7.onnx, a
// feature extractor from `gendl-train export vgg19`, Keras/Caffe2/torchvision layouts) and
// extracts the layers asked for, named as Keras names them; the extractor applies the
// network's preprocessing in its graph. The defaults are the book's: content block5_conv2,
// style block1_conv1 ... block5_conv1. Any other network with one float32 image input
// [N, 3, H, W] is generic: layers are value names (a TF.js InceptionV3 converted by
// `gendl-train import tfjs` keeps Keras's layer names), the input range comes from the
// model's "preprocessing" metadata or NetworkOptions.InputRange, and InceptionV3's Keras
// names get defaults that follow the book's plan (see InceptionContent, InceptionStyle).
//
// # Optimisation
//
// Run with LBFGS restarts gonum's L-BFGS (10 correction pairs and a More-Thuente line search,
// as scipy's fmin_l_bfgs_b that the book calls) each round, for at most Iterations loss
// evaluations, from the best image of the round before; pixels are not clipped until the
// image is saved, as in the book. Adam runs Rounds·Iterations steps. Each evaluation is one
// forward and one backward pass; the content target and the style Gram matrices are computed
// once, by NewTransfer.
//
// # Memory
//
// The backward pass keeps every activation up to the deepest layer read. EstimateMemory
// predicts the total for an image size from the shapes the planner infers at that size
// (activations, gradient buffers, weights, the optimizer's float64 vectors); `gendl style`
// refuses runs whose estimate exceeds --max-memory. VGG19 at 341x400 (Grace Hopper at the
// book's 400 px height) is estimated at 1.0 GiB; the whole `gendl style` process peaks at
// 1.32 GiB there, reading the 575 MB zoo file included, and at 1.41 GiB at 455x533.
//
// # Errors
//
// Errors are prefixed "style:". A model lacking a requested layer lists the available names;
// a VGG19 whose preprocessing cannot be told, or that transforms its input in an unexpected
// way, says so; an image too small for the network names the layer that would be empty; a
// loss that turns NaN or infinite stops the run.
package style
