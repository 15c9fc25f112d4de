package loop

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gendl/gendl/onnx"
)

const (
	ckptMagic   = "GENDLCKP"
	ckptVersion = 1
	// limits against hostile files
	maxHeader = 1 << 24
	maxArrays = 1 << 12
)

// BestName is the checkpoint of the best validation (or test) loss.
const BestName = "best.ckpt"

// CheckpointName names the checkpoint after step s, so that names sort by step.
func CheckpointName(s int64) string { return fmt.Sprintf("step-%09d.ckpt", s) }

// EncodeCheckpoint returns the bytes of a checkpoint holding header (as JSON) and arrays.
func EncodeCheckpoint(header any, arrays [][]float32) ([]byte, error) {
	hdr, err := json.Marshal(header)
	if err != nil {
		return nil, fmt.Errorf("loop: checkpoint header: %w", err)
	}
	var buf bytes.Buffer
	le := binary.LittleEndian
	buf.WriteString(ckptMagic)
	buf.Write(le.AppendUint32(nil, ckptVersion))
	buf.Write(le.AppendUint32(nil, uint32(len(hdr))))
	buf.Write(hdr)
	buf.Write(le.AppendUint32(nil, uint32(len(arrays))))
	b := make([]byte, 0, 4096)
	for _, a := range arrays {
		b = le.AppendUint32(b[:0], uint32(len(a)))
		for _, v := range a {
			b = le.AppendUint32(b, math.Float32bits(v))
		}
		buf.Write(b)
	}
	buf.Write(le.AppendUint32(nil, crc32.ChecksumIEEE(buf.Bytes())))
	return buf.Bytes(), nil
}

// WriteCheckpoint writes a checkpoint to path atomically (a temporary file in the same
// directory, fsync, rename).
func WriteCheckpoint(path string, header any, arrays [][]float32) error {
	b, err := EncodeCheckpoint(header, arrays)
	if err != nil {
		return err
	}
	if err := onnx.WriteFileAtomic(path, b); err != nil {
		return fmt.Errorf("loop: %w", err)
	}
	return nil
}

// ReadCheckpoint reads the checkpoint at path, decoding its header JSON into header.
func ReadCheckpoint(path string, header any) ([][]float32, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("loop: %w", err)
	}
	arrays, err := DecodeCheckpoint(data, header)
	if err != nil {
		return nil, fmt.Errorf("loop: checkpoint %s: %w", path, err)
	}
	return arrays, nil
}

// DecodeCheckpoint decodes checkpoint bytes (see ReadCheckpoint).
func DecodeCheckpoint(data []byte, header any) ([][]float32, error) {
	le := binary.LittleEndian
	if len(data) < len(ckptMagic) || string(data[:len(ckptMagic)]) != ckptMagic {
		return nil, fmt.Errorf("not a gendl checkpoint (no %q magic)", ckptMagic)
	}
	if len(data) < len(ckptMagic)+12 {
		return nil, io.ErrUnexpectedEOF
	}
	if v := le.Uint32(data[8:]); v != ckptVersion {
		return nil, fmt.Errorf("format version %d, this gendl-train reads version %d: resume with the gendl-train that wrote it, or start a new run without --resume", v, ckptVersion)
	}
	body, sum := data[:len(data)-4], le.Uint32(data[len(data)-4:])
	if crc32.ChecksumIEEE(body) != sum {
		return nil, fmt.Errorf("checksum mismatch: the file is truncated or damaged")
	}
	r := body[12:]
	n := le.Uint32(data[12:])
	if n > maxHeader || int64(n) > int64(len(r))-4 {
		return nil, fmt.Errorf("header length %d out of range", n)
	}
	r = r[4:]
	if err := json.Unmarshal(r[:n], header); err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	r = r[n:]
	if len(r) < 4 {
		return nil, io.ErrUnexpectedEOF
	}
	count := le.Uint32(r)
	r = r[4:]
	if count > maxArrays {
		return nil, fmt.Errorf("%d arrays, at most %d", count, maxArrays)
	}
	arrays := make([][]float32, count)
	for k := range arrays {
		if len(r) < 4 {
			return nil, io.ErrUnexpectedEOF
		}
		m := le.Uint32(r)
		r = r[4:]
		if uint64(m)*4 > uint64(len(r)) {
			return nil, fmt.Errorf("array %d: %d values, file too short", k, m)
		}
		a := make([]float32, m)
		for i := range a {
			a[i] = math.Float32frombits(le.Uint32(r[4*i:]))
		}
		arrays[k] = a
		r = r[4*m:]
	}
	if len(r) != 0 {
		return nil, fmt.Errorf("%d trailing bytes", len(r))
	}
	return arrays, nil
}

// LatestCheckpoint returns the path of the highest-step checkpoint in dir, "" if none.
func LatestCheckpoint(dir string) (string, error) {
	names, err := stepCheckpoints(dir)
	if err != nil || len(names) == 0 {
		return "", err
	}
	return filepath.Join(dir, names[len(names)-1]), nil
}

func stepCheckpoints(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("loop: %w", err)
	}
	var names []string
	for _, e := range ents {
		if n := e.Name(); strings.HasPrefix(n, "step-") && strings.HasSuffix(n, ".ckpt") {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	return names, nil
}

// PruneCheckpoints deletes all but the last keep step checkpoints of dir (BestName stays).
func PruneCheckpoints(dir string, keep int) error {
	names, err := stepCheckpoints(dir)
	if err != nil {
		return err
	}
	for len(names) > max(keep, 1) {
		if err := os.Remove(filepath.Join(dir, names[0])); err != nil {
			return fmt.Errorf("loop: %w", err)
		}
		names = names[1:]
	}
	return nil
}

// ResumeLatest reads the latest step checkpoint in dir (LatestCheckpoint) into header and
// returns its path and arrays (ReadCheckpoint). No checkpoint there is an error of package
// pkg, the trainer resuming.
func ResumeLatest(pkg, dir string, header any) (path string, arrays [][]float32, err error) {
	if path, err = LatestCheckpoint(dir); err != nil {
		return "", nil, err
	}
	if path == "" {
		return "", nil, fmt.Errorf("%s: --resume: no checkpoint (step-*.ckpt) in %s", pkg, dir)
	}
	if arrays, err = ReadCheckpoint(path, header); err != nil {
		return "", nil, err
	}
	return path, arrays, nil
}
