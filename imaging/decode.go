package imaging

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// MaxPixels caps the declared width x height of a decoded image (a decompression bomb
// declares a huge size in a few bytes).
var MaxPixels = 1 << 26

// Decode reads a PNG, JPEG or GIF image (the first frame of an animated GIF). It checks the
// declared size against MaxPixels before decoding.
func Decode(r io.Reader) (image.Image, string, error) {
	// Read everything once: DecodeConfig and Decode both need the start of the stream.
	limit := int64(MaxPixels)*4 + 1<<20
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, "", fmt.Errorf("imaging: %w", err)
	}
	if int64(len(data)) > limit {
		return nil, "", fmt.Errorf("imaging: more than %d bytes, too large for an image of at most %d pixels", limit, MaxPixels)
	}
	return decodeBytes(data)
}

func decodeBytes(data []byte) (image.Image, string, error) {
	format := sniff(data)
	if format == "" {
		if len(data) == 0 {
			return nil, "", errors.New("imaging: empty file")
		}
		return nil, "", errors.New("imaging: not a PNG, JPEG or GIF image")
	}
	var cfg image.Config
	var err error
	switch format {
	case "png":
		cfg, err = png.DecodeConfig(bytes.NewReader(data))
	case "jpeg":
		cfg, err = jpeg.DecodeConfig(bytes.NewReader(data))
	case "gif":
		cfg, err = gif.DecodeConfig(bytes.NewReader(data))
	}
	if err != nil {
		return nil, format, fmt.Errorf("imaging: corrupt %s header: %w", strings.ToUpper(format), err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, format, fmt.Errorf("imaging: %s declares an empty %dx%d image", strings.ToUpper(format), cfg.Width, cfg.Height)
	}
	if int64(cfg.Width)*int64(cfg.Height) > int64(MaxPixels) {
		return nil, format, fmt.Errorf("imaging: %s declares %dx%d pixels, more than the cap of %d (imaging.MaxPixels)", strings.ToUpper(format), cfg.Width, cfg.Height, MaxPixels)
	}
	var img image.Image
	switch format {
	case "png":
		img, err = png.Decode(bytes.NewReader(data))
	case "jpeg":
		img, err = jpeg.Decode(bytes.NewReader(data))
	case "gif":
		img, err = gif.Decode(bytes.NewReader(data))
	}
	if err != nil {
		return nil, format, fmt.Errorf("imaging: corrupt %s: %w", strings.ToUpper(format), err)
	}
	return img, format, nil
}

// sniff names the format from the magic bytes, or "".
func sniff(b []byte) string {
	switch {
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		return "png"
	case bytes.HasPrefix(b, []byte{0xFF, 0xD8}):
		return "jpeg"
	case bytes.HasPrefix(b, []byte("GIF87a")), bytes.HasPrefix(b, []byte("GIF89a")):
		return "gif"
	}
	return ""
}

// DecodeFile reads the image at path; errors name the file.
func DecodeFile(path string) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("imaging: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("imaging: %w", err)
	}
	if st.IsDir() {
		return nil, fmt.Errorf("imaging: %s is a directory, not an image", path)
	}
	// Compressed images are far smaller than MaxPixels*4 bytes; a larger file is refused
	// before it is read.
	if st.Size() > int64(MaxPixels)*4+1<<20 {
		return nil, fmt.Errorf("imaging: %s is %d bytes, too large for an image of at most %d pixels", path, st.Size(), MaxPixels)
	}
	data, err := io.ReadAll(bufio.NewReader(f))
	if err != nil {
		return nil, fmt.Errorf("imaging: %s: %w", path, err)
	}
	img, _, err := decodeBytes(data)
	if err != nil {
		return nil, fmt.Errorf("imaging: %s: %s", path, strings.TrimPrefix(err.Error(), "imaging: "))
	}
	return img, nil
}

// IsImageFile reports whether name has the extension of a format Decode reads (.png, .jpg,
// .jpeg, .gif; any case).
func IsImageFile(name string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".png", ".jpg", ".jpeg", ".gif":
		return true
	}
	return false
}
