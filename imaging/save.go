package imaging

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"path/filepath"
	"strings"

	"github.com/gendl/gendl/internal/atomicfile"
)

// EncodePNG returns img as PNG bytes.
func EncodePNG(img image.Image) ([]byte, error) {
	var b bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.DefaultCompression}).Encode(&b, img); err != nil {
		return nil, fmt.Errorf("imaging: encoding PNG: %w", err)
	}
	return b.Bytes(), nil
}

// SavePNG writes img to path as PNG, atomically.
func SavePNG(path string, img image.Image) error {
	b, err := EncodePNG(img)
	if err != nil {
		return err
	}
	return WriteFileAtomic(path, b)
}

// SaveJPEG writes img to path as JPEG at quality 1..100, atomically.
func SaveJPEG(path string, img image.Image, quality int) error {
	if quality < 1 || quality > 100 {
		return fmt.Errorf("imaging: JPEG quality %d: want 1 to 100", quality)
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: quality}); err != nil {
		return fmt.Errorf("imaging: encoding JPEG: %w", err)
	}
	return WriteFileAtomic(path, b.Bytes())
}

// Save writes img as PNG or JPEG (quality 95) by path's extension (.png, .jpg, .jpeg).
func Save(path string, img image.Image) error {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".png":
		return SavePNG(path, img)
	case ".jpg", ".jpeg":
		return SaveJPEG(path, img, 95)
	}
	return fmt.Errorf("imaging: %s: unknown image extension %q: want .png, .jpg or .jpeg", path, filepath.Ext(path))
}

// WriteFileAtomic writes data to path through a synced temporary file in the same directory
// and a rename, so path never holds a partial file. The file is readable by all (0644),
// as any image a user writes.
func WriteFileAtomic(path string, data []byte) error {
	if err := atomicfile.Write(path, data); err != nil {
		return fmt.Errorf("imaging: writing %s: %w", path, err)
	}
	return nil
}
