package imagegen

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/gendl/gendl/imaging"
	"github.com/gendl/gendl/onnx"
)

// Metadata keys (ONNX metadata_props).
const (
	MetaModel      = "gendl.model"
	MetaFormat     = "gendl.format"
	MetaLatentDim  = "gendl.latent_dim"
	MetaImageShape = "gendl.image_shape"
	MetaDataset    = "gendl.dataset"
	MetaConfig     = "gendl.config"
	MetaClasses    = "gendl.classes"
)

// FormatVersion is the contract version this package writes and the newest it reads.
const FormatVersion = 1

// Kind is what a model is (the gendl.model metadata).
type Kind string

// The kinds of image model.
const (
	VAEDecoder     Kind = "vae-decoder"
	VAEEncoder     Kind = "vae-encoder"
	DCGANGenerator Kind = "dcgan-generator"
	Classifier     Kind = "classifier"
)

// Kinds lists every kind, in the order of the package documentation.
var Kinds = []Kind{VAEDecoder, VAEEncoder, DCGANGenerator, Classifier}

// Graph input and output names.
const (
	InputZ         = "z"
	InputImage     = "image"
	OutputImage    = "image"
	OutputZMean    = "z_mean"
	OutputZLogVar  = "z_log_var"
	OutputLogits   = "logits"
	OutputFeatures = "features"
)

// Limits on metadata values, so a hostile file cannot ask for absurd allocations.
const (
	MaxLatentDim = 1 << 16
	MaxSide      = 1 << 14
)

// HasLatent reports whether models of kind k have a latent space (all but the classifier).
func (k Kind) HasLatent() bool { return k == VAEDecoder || k == VAEEncoder || k == DCGANGenerator }

// Generates reports whether k maps latent points to images.
func (k Kind) Generates() bool { return k == VAEDecoder || k == DCGANGenerator }

// OutputRange is the value range of the images a generating kind outputs: [0, 1] for the
// VAE decoder (sigmoid), [-1, 1] for the DCGAN generator (tanh).
func (k Kind) OutputRange() imaging.Range {
	if k == DCGANGenerator {
		return imaging.Signed()
	}
	return imaging.Unit()
}

// InputRange is the value range of the images an encoder or classifier takes: [0, 1].
func (k Kind) InputRange() imaging.Range { return imaging.Unit() }

func (k Kind) valid() bool {
	for _, x := range Kinds {
		if k == x {
			return true
		}
	}
	return false
}

// Info is a model's metadata.
type Info struct {
	Kind Kind
	// LatentDim is the size of the latent space (0 for a classifier).
	LatentDim int
	// C, H, W is the image shape.
	C, H, W int
	// Dataset names what the model was trained on ("mnist", "fashion-mnist", a folder name);
	// optional.
	Dataset string
	// Classes are a classifier's class names in logit order; optional.
	Classes []string
	// Config is the trainer's configuration as JSON; optional, kept verbatim.
	Config json.RawMessage
}

// Validate checks the values an Info may hold.
func (i Info) Validate() error {
	if !i.Kind.valid() {
		return fmt.Errorf("imagegen: unknown model kind %q: want one of %v", i.Kind, Kinds)
	}
	if i.Kind.HasLatent() {
		if i.LatentDim < 1 || i.LatentDim > MaxLatentDim {
			return fmt.Errorf("imagegen: %s: latent dimension %d: want 1 to %d", i.Kind, i.LatentDim, MaxLatentDim)
		}
	} else if i.LatentDim != 0 {
		return fmt.Errorf("imagegen: %s has no latent space, but latent dimension is %d", i.Kind, i.LatentDim)
	}
	if i.C != 1 && i.C != 3 {
		return fmt.Errorf("imagegen: %s: image shape %d,%d,%d: want 1 (grayscale) or 3 (RGB) channels", i.Kind, i.C, i.H, i.W)
	}
	if i.H < 1 || i.W < 1 || i.H > MaxSide || i.W > MaxSide {
		return fmt.Errorf("imagegen: %s: image shape %d,%d,%d: want sides of 1 to %d pixels", i.Kind, i.C, i.H, i.W, MaxSide)
	}
	if len(i.Config) > 0 && !json.Valid(i.Config) {
		return fmt.Errorf("imagegen: %s: %s is not valid JSON", i.Kind, MetaConfig)
	}
	return nil
}

// ImageShape formats the image shape as in the metadata: "C,H,W".
func (i Info) ImageShape() string { return fmt.Sprintf("%d,%d,%d", i.C, i.H, i.W) }

// Entries returns the metadata_props an exporter writes, in a fixed order.
func (i Info) Entries() ([][2]string, error) {
	if err := i.Validate(); err != nil {
		return nil, err
	}
	e := [][2]string{{MetaModel, string(i.Kind)}, {MetaFormat, strconv.Itoa(FormatVersion)}}
	if i.Kind.HasLatent() {
		e = append(e, [2]string{MetaLatentDim, strconv.Itoa(i.LatentDim)})
	}
	e = append(e, [2]string{MetaImageShape, i.ImageShape()})
	if i.Dataset != "" {
		e = append(e, [2]string{MetaDataset, i.Dataset})
	}
	if len(i.Classes) > 0 {
		b, _ := json.Marshal(i.Classes)
		e = append(e, [2]string{MetaClasses, string(b)})
	}
	if len(i.Config) > 0 {
		e = append(e, [2]string{MetaConfig, string(i.Config)})
	}
	return e, nil
}

// Apply adds i's metadata to a model being built (call it before b.Model()); an invalid Info
// is returned as an error and adds nothing.
func (i Info) Apply(b *onnx.Builder) error {
	e, err := i.Entries()
	if err != nil {
		return err
	}
	for _, kv := range e {
		b.Metadata(kv[0], kv[1])
	}
	return nil
}

// SetMetadata writes i's metadata into m, replacing any gendl.* entries it had and keeping
// the others.
func SetMetadata(m *onnx.ModelProto, i Info) error {
	e, err := i.Entries()
	if err != nil {
		return err
	}
	var kept []*onnx.StringStringEntryProto
	for _, kv := range m.GetMetadataProps() {
		if !strings.HasPrefix(kv.GetKey(), "gendl.") {
			kept = append(kept, kv)
		}
	}
	for _, kv := range e {
		kept = append(kept, &onnx.StringStringEntryProto{Key: proto.String(kv[0]), Value: proto.String(kv[1])})
	}
	m.MetadataProps = kept
	return nil
}

// ReadInfo decodes and validates the metadata of m.
func ReadInfo(m *onnx.ModelProto) (Info, error) {
	md := map[string]string{}
	for _, kv := range m.GetMetadataProps() {
		md[kv.GetKey()] = kv.GetValue()
	}
	kind, ok := md[MetaModel]
	if !ok {
		return Info{}, fmt.Errorf("imagegen: model has no %s metadata: not a gendl image model (want one of %v)", MetaModel, Kinds)
	}
	i := Info{Kind: Kind(kind), Dataset: md[MetaDataset]}
	if !i.Kind.valid() {
		return Info{}, fmt.Errorf("imagegen: model is a gendl %q, not an image model (%s: want one of %v)", kind, MetaModel, Kinds)
	}
	f, err := strconv.Atoi(md[MetaFormat])
	if err != nil || f < 1 {
		return Info{}, fmt.Errorf("imagegen: %s metadata is %q, want a format version >= 1", MetaFormat, md[MetaFormat])
	}
	if f > FormatVersion {
		return Info{}, fmt.Errorf("imagegen: model has format version %d; this gendl reads up to version %d: upgrade gendl", f, FormatVersion)
	}
	if i.Kind.HasLatent() {
		s, ok := md[MetaLatentDim]
		if !ok {
			return Info{}, fmt.Errorf("imagegen: %s model has no %s metadata", kind, MetaLatentDim)
		}
		if i.LatentDim, err = strconv.Atoi(strings.TrimSpace(s)); err != nil {
			return Info{}, fmt.Errorf("imagegen: %s metadata %q is not an integer", MetaLatentDim, s)
		}
	}
	s, ok := md[MetaImageShape]
	if !ok {
		return Info{}, fmt.Errorf("imagegen: %s model has no %s metadata", kind, MetaImageShape)
	}
	if i.C, i.H, i.W, err = ParseImageShape(s); err != nil {
		return Info{}, err
	}
	if c, ok := md[MetaClasses]; ok {
		if err := json.Unmarshal([]byte(c), &i.Classes); err != nil {
			return Info{}, fmt.Errorf("imagegen: %s metadata is not a JSON list of strings: %v", MetaClasses, err)
		}
	}
	if c, ok := md[MetaConfig]; ok {
		i.Config = json.RawMessage(c)
	}
	if err := i.Validate(); err != nil {
		return Info{}, fmt.Errorf("%w (in the metadata)", err)
	}
	return i, nil
}

// ParseImageShape parses "C,H,W".
func ParseImageShape(s string) (c, h, w int, err error) {
	parts := strings.Split(s, ",")
	if len(parts) != 3 {
		return 0, 0, 0, fmt.Errorf("imagegen: %s metadata %q: want C,H,W such as 1,28,28", MetaImageShape, s)
	}
	var v [3]int
	for k, p := range parts {
		if v[k], err = strconv.Atoi(strings.TrimSpace(p)); err != nil || v[k] < 1 || v[k] > MaxSide {
			return 0, 0, 0, fmt.Errorf("imagegen: %s metadata %q: want C,H,W of positive integers such as 1,28,28", MetaImageShape, s)
		}
	}
	return v[0], v[1], v[2], nil
}
