package idx

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
)

// Type is the element type code of an IDX file (byte 2 of the magic).
type Type byte

// The element types of the IDX format.
const (
	Uint8   Type = 0x08
	Int8    Type = 0x09
	Int16   Type = 0x0B
	Int32   Type = 0x0C
	Float32 Type = 0x0D
	Float64 Type = 0x0E
)

// Size returns the size of one element in bytes, or 0 for an unknown type.
func (t Type) Size() int {
	switch t {
	case Uint8, Int8:
		return 1
	case Int16:
		return 2
	case Int32, Float32:
		return 4
	case Float64:
		return 8
	}
	return 0
}

func (t Type) String() string {
	switch t {
	case Uint8:
		return "uint8"
	case Int8:
		return "int8"
	case Int16:
		return "int16"
	case Int32:
		return "int32"
	case Float32:
		return "float32"
	case Float64:
		return "float64"
	}
	return fmt.Sprintf("unknown type 0x%02X", byte(t))
}

// MaxDims bounds the number of dimensions a file may declare.
const MaxDims = 16

// DefaultMaxBytes is the default cap on the data size of one file (1 GiB; the MNIST training
// images are 47 MB, Fashion-MNIST's the same).
const DefaultMaxBytes = 1 << 30

// Options bound what Read accepts.
type Options struct {
	// MaxBytes caps the size of the data (the product of the dimensions times the element
	// size); 0 means DefaultMaxBytes.
	MaxBytes int64
}

// Array is the content of an IDX file.
type Array struct {
	Type Type
	// Dims are the declared dimensions, outermost first (MNIST images: [N, 28, 28]).
	Dims []int
	// Data holds Len() elements in row-major order: []uint8, []int8, []int16, []int32,
	// []float32 or []float64, according to Type.
	Data any
}

// Len returns the number of elements (the product of Dims).
func (a *Array) Len() int {
	n := 1
	for _, d := range a.Dims {
		n *= d
	}
	return n
}

// Uint8 returns the data of a uint8 array, or an error naming the actual type.
func (a *Array) Uint8() ([]uint8, error) {
	d, ok := a.Data.([]uint8)
	if !ok || a.Type != Uint8 {
		return nil, fmt.Errorf("idx: want uint8 data, the file holds %v", a.Type)
	}
	return d, nil
}

// Read parses an IDX stream, gzip-compressed or not (detected from its first bytes).
func Read(r io.Reader, opt Options) (*Array, error) {
	if opt.MaxBytes <= 0 {
		opt.MaxBytes = DefaultMaxBytes
	}
	br := bufio.NewReaderSize(r, 64<<10)
	head, err := br.Peek(2)
	if err != nil && len(head) < 2 {
		if len(head) == 0 {
			return nil, errors.New("idx: empty file")
		}
		return nil, errors.New("idx: file too short for an IDX header (1 byte)")
	}
	var src io.Reader = br
	gz := head[0] == 0x1f && head[1] == 0x8b
	if gz {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("idx: gzip: %w", err)
		}
		defer zr.Close()
		src = zr
	}
	a, err := read(src, opt)
	switch {
	case err == nil || isIDXError(err):
		return a, err
	case gz && errors.Is(err, io.ErrUnexpectedEOF):
		return nil, fmt.Errorf("idx: gzip stream is truncated: %w", err)
	case gz:
		return nil, fmt.Errorf("idx: gzip: %w", err)
	}
	return nil, fmt.Errorf("idx: %w", err)
}

// idxError marks errors about the IDX content itself (as opposed to the gzip layer).
type idxError struct{ msg string }

func (e *idxError) Error() string { return "idx: " + e.msg }

func errf(format string, args ...any) error { return &idxError{fmt.Sprintf(format, args...)} }

func isIDXError(err error) bool {
	var e *idxError
	return errors.As(err, &e)
}

func read(r io.Reader, opt Options) (*Array, error) {
	var magic [4]byte
	if n, err := io.ReadFull(r, magic[:]); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			if n == 0 {
				return nil, errf("empty file")
			}
			return nil, errf("file too short for an IDX header (%d bytes, want at least 4)", n)
		}
		return nil, err
	}
	if magic[0] != 0 || magic[1] != 0 {
		return nil, errf("bad magic %02X %02X %02X %02X: an IDX file starts with two zero bytes (not an IDX file?)", magic[0], magic[1], magic[2], magic[3])
	}
	t := Type(magic[2])
	if t.Size() == 0 {
		return nil, errf("bad magic: element type 0x%02X is not one of 0x08 (uint8), 0x09 (int8), 0x0B (int16), 0x0C (int32), 0x0D (float32), 0x0E (float64)", magic[2])
	}
	nd := int(magic[3])
	if nd < 1 || nd > MaxDims {
		return nil, errf("header declares %d dimensions, want 1 to %d", nd, MaxDims)
	}
	raw := make([]byte, 4*nd)
	if n, err := io.ReadFull(r, raw); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, errf("truncated header: %d dimensions need %d bytes of sizes, the file has %d", nd, 4*nd, n)
		}
		return nil, err
	}
	dims := make([]int, nd)
	want := int64(t.Size())
	for i := range dims {
		d := binary.BigEndian.Uint32(raw[4*i:])
		if d > math.MaxInt32 {
			return nil, errf("dimension %d is %d, too large", i, d)
		}
		dims[i] = int(d)
		if d != 0 && want > opt.MaxBytes/int64(d) {
			return nil, errf("dimensions %v hold more than the %d-byte cap (Options.MaxBytes) of %v data", dimsUpTo(raw, nd), opt.MaxBytes, t)
		}
		want *= int64(d)
	}
	data, err := readExactly(r, want)
	if err != nil {
		if got, ok := err.(shortError); ok {
			return nil, errf("truncated: dimensions %v of %v need %d bytes of data, the file has %d", dims, t, want, int64(got))
		}
		return nil, err
	}
	// Nothing may follow the data.
	var one [1]byte
	if n, err := io.ReadFull(r, one[:]); n > 0 {
		extra, _ := io.CopyN(io.Discard, r, 1<<30)
		return nil, errf("%d bytes after the data: dimensions %v of %v need exactly %d bytes (file length disagrees with the header)", 1+extra, dims, t, want)
	} else if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	a := &Array{Type: t, Dims: dims}
	n := int(want) / t.Size()
	switch t {
	case Uint8:
		a.Data = data
	case Int8:
		v := make([]int8, n)
		for i, b := range data {
			v[i] = int8(b)
		}
		a.Data = v
	case Int16:
		v := make([]int16, n)
		for i := range v {
			v[i] = int16(binary.BigEndian.Uint16(data[2*i:]))
		}
		a.Data = v
	case Int32:
		v := make([]int32, n)
		for i := range v {
			v[i] = int32(binary.BigEndian.Uint32(data[4*i:]))
		}
		a.Data = v
	case Float32:
		v := make([]float32, n)
		for i := range v {
			v[i] = math.Float32frombits(binary.BigEndian.Uint32(data[4*i:]))
		}
		a.Data = v
	case Float64:
		v := make([]float64, n)
		for i := range v {
			v[i] = math.Float64frombits(binary.BigEndian.Uint64(data[8*i:]))
		}
		a.Data = v
	}
	return a, nil
}

func dimsUpTo(raw []byte, nd int) []uint32 {
	d := make([]uint32, nd)
	for i := range d {
		d[i] = binary.BigEndian.Uint32(raw[4*i:])
	}
	return d
}

// shortError is how many bytes readExactly found before the end of the stream.
type shortError int64

func (e shortError) Error() string { return fmt.Sprintf("short read: %d bytes", int64(e)) }

// readExactly reads want bytes. Its buffer grows with the bytes actually read (doubling, never
// past want), so a header that claims more data than the stream holds costs no more memory
// than the stream itself.
func readExactly(r io.Reader, want int64) ([]byte, error) {
	c := min(want, 1<<20)
	buf := make([]byte, 0, c)
	for int64(len(buf)) < want {
		if len(buf) == cap(buf) {
			nc := min(want, 2*int64(cap(buf)))
			nb := make([]byte, len(buf), nc)
			copy(nb, buf)
			buf = nb
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err != nil {
			if errors.Is(err, io.EOF) {
				if int64(len(buf)) < want {
					return nil, shortError(len(buf))
				}
				break
			}
			return nil, err
		}
	}
	return buf, nil
}

// ReadFile reads the IDX file at path (gzip-compressed or not); errors name the file.
func ReadFile(path string, opt Options) (*Array, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("idx: %w", err)
	}
	defer f.Close()
	a, err := Read(f, opt)
	if err != nil {
		return nil, fmt.Errorf("%w (file %s)", err, filepath.Base(path))
	}
	return a, nil
}

// Write encodes a as an uncompressed IDX stream. Data must match Type and hold Len()
// elements.
func Write(w io.Writer, a *Array) error {
	b, err := Encode(a)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// Encode returns a as uncompressed IDX bytes.
func Encode(a *Array) ([]byte, error) {
	if a.Type.Size() == 0 {
		return nil, errf("cannot write %v", a.Type)
	}
	if len(a.Dims) < 1 || len(a.Dims) > MaxDims {
		return nil, errf("cannot write %d dimensions, want 1 to %d", len(a.Dims), MaxDims)
	}
	var b bytes.Buffer
	b.Write([]byte{0, 0, byte(a.Type), byte(len(a.Dims))})
	for _, d := range a.Dims {
		if d < 0 || d > math.MaxInt32 {
			return nil, errf("cannot write dimension %d", d)
		}
		b.Write(binary.BigEndian.AppendUint32(nil, uint32(d)))
	}
	n := a.Len()
	bad := func(got int) error {
		return errf("data has %d elements, dimensions %v want %d", got, a.Dims, n)
	}
	var typeOK bool
	switch v := a.Data.(type) {
	case []uint8:
		if typeOK = a.Type == Uint8; typeOK && len(v) != n {
			return nil, bad(len(v))
		}
		b.Write(v)
	case []int8:
		if typeOK = a.Type == Int8; typeOK && len(v) != n {
			return nil, bad(len(v))
		}
		for _, x := range v {
			b.WriteByte(byte(x))
		}
	case []int16:
		if typeOK = a.Type == Int16; typeOK && len(v) != n {
			return nil, bad(len(v))
		}
		for _, x := range v {
			b.Write(binary.BigEndian.AppendUint16(nil, uint16(x)))
		}
	case []int32:
		if typeOK = a.Type == Int32; typeOK && len(v) != n {
			return nil, bad(len(v))
		}
		for _, x := range v {
			b.Write(binary.BigEndian.AppendUint32(nil, uint32(x)))
		}
	case []float32:
		if typeOK = a.Type == Float32; typeOK && len(v) != n {
			return nil, bad(len(v))
		}
		for _, x := range v {
			b.Write(binary.BigEndian.AppendUint32(nil, math.Float32bits(x)))
		}
	case []float64:
		if typeOK = a.Type == Float64; typeOK && len(v) != n {
			return nil, bad(len(v))
		}
		for _, x := range v {
			b.Write(binary.BigEndian.AppendUint64(nil, math.Float64bits(x)))
		}
	}
	if !typeOK {
		return nil, errf("data of Go type %T does not match element type %v", a.Data, a.Type)
	}
	return b.Bytes(), nil
}
