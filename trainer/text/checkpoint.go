package text

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

	"github.com/gendl/gendl/models/charlstm"
)

// Checkpoint file layout (little-endian):
//
//	magic "GENDLCKP" | version uint32 | header length uint32 | header JSON
//	| array count uint32 | per array: length uint32, float32 values
//	| CRC-32 (IEEE) of everything before it
//
// The arrays are the parameters (nn.ParamShapes order) then the optimizer's slots.
const (
	ckptMagic   = "GENDLCKP"
	ckptVersion = 1
	// limits against hostile files
	maxHeader = 1 << 24
	maxArrays = 1 << 12
)

// State is what a checkpoint holds besides arrays: enough to rebuild the model, the data
// and the optimizer, and to continue at the exact batch where it stopped.
type State struct {
	Config Config          `json:"config"`
	Model  charlstm.Config `json:"model"`
	// Epoch is the current epoch (from 0) and Batch the number of its batches done.
	Epoch int `json:"epoch"`
	Batch int `json:"batch"`
	// Step counts the optimizer updates.
	Step int64 `json:"step"`
	// BestVal is the best validation loss so far (nats/char; +Inf as null before any),
	// reached at epoch BestEpoch.
	BestVal   *float64 `json:"best_val_loss,omitempty"`
	BestEpoch int      `json:"best_epoch"`
	// EpochLoss and EpochChars sum the training loss of the current epoch so far.
	EpochLoss  float64 `json:"epoch_loss_sum"`
	EpochChars int64   `json:"epoch_chars"`
	// Optimizer is the optimizer's name, learning rate and update count; its slots follow
	// the parameters among the arrays.
	Optimizer string  `json:"optimizer"`
	LR        float64 `json:"lr"`
	OptT      int64   `json:"optimizer_t"`
	// RNG: the window order of an epoch is drawn from (Seed, Epoch) alone.
	Seed    uint64 `json:"rng_seed"`
	NParams int    `json:"params"`
}

// writeCheckpoint writes st and the arrays to path atomically: a temporary file in the
// same directory, fsync, rename, fsync of the directory.
func writeCheckpoint(path string, st *State, arrays [][]float32) error {
	hdr, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("text: checkpoint header: %w", err)
	}
	var buf bytes.Buffer
	buf.WriteString(ckptMagic)
	le := binary.LittleEndian
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
	return writeAtomic(path, buf.Bytes())
}

// writeAtomic writes data to path through a temporary file in the same directory, so a
// crash leaves either the old file or the new one, never half of one.
func writeAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("text: %w", err)
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("text: writing %s: %w", path, err)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// readCheckpoint reads a checkpoint; any damage (truncation, bad magic or version, CRC
// mismatch, inconsistent sizes) is an error naming the file.
func readCheckpoint(path string) (*State, [][]float32, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("text: %w", err)
	}
	st, arrays, err := decodeCheckpoint(data)
	if err != nil {
		return nil, nil, fmt.Errorf("text: checkpoint %s: %w", path, err)
	}
	return st, arrays, nil
}

func decodeCheckpoint(data []byte) (*State, [][]float32, error) {
	le := binary.LittleEndian
	if len(data) < len(ckptMagic) || string(data[:len(ckptMagic)]) != ckptMagic {
		return nil, nil, fmt.Errorf("not a gendl checkpoint (no %q magic)", ckptMagic)
	}
	if len(data) < len(ckptMagic)+12 {
		return nil, nil, io.ErrUnexpectedEOF
	}
	if v := le.Uint32(data[8:]); v != ckptVersion {
		return nil, nil, fmt.Errorf("format version %d, this gendl-train reads version %d: resume with the gendl-train that wrote it, or start a new run without --resume", v, ckptVersion)
	}
	body, sum := data[:len(data)-4], le.Uint32(data[len(data)-4:])
	if crc32.ChecksumIEEE(body) != sum {
		return nil, nil, fmt.Errorf("checksum mismatch: the file is truncated or damaged")
	}
	r := body[12:]
	n := le.Uint32(data[12:])
	if n > maxHeader || int(n) > len(r)-4 {
		return nil, nil, fmt.Errorf("header length %d out of range", n)
	}
	r = r[4:]
	st := &State{}
	if err := json.Unmarshal(r[:n], st); err != nil {
		return nil, nil, fmt.Errorf("header: %w", err)
	}
	r = r[n:]
	if len(r) < 4 {
		return nil, nil, io.ErrUnexpectedEOF
	}
	count := le.Uint32(r)
	r = r[4:]
	if count > maxArrays {
		return nil, nil, fmt.Errorf("%d arrays, at most %d", count, maxArrays)
	}
	arrays := make([][]float32, count)
	for k := range arrays {
		if len(r) < 4 {
			return nil, nil, io.ErrUnexpectedEOF
		}
		m := le.Uint32(r)
		r = r[4:]
		if uint64(m)*4 > uint64(len(r)) {
			return nil, nil, fmt.Errorf("array %d: %d values, file too short", k, m)
		}
		a := make([]float32, m)
		for i := range a {
			a[i] = math.Float32frombits(le.Uint32(r[4*i:]))
		}
		arrays[k] = a
		r = r[4*m:]
	}
	if len(r) != 0 {
		return nil, nil, fmt.Errorf("%d trailing bytes", len(r))
	}
	return st, arrays, nil
}

// checkpointName names the checkpoint after step s, so names sort by step.
func checkpointName(s int64) string { return fmt.Sprintf("step-%09d.ckpt", s) }

// BestName is the checkpoint of the best validation loss.
const BestName = "best.ckpt"

// latestCheckpoint returns the path of the checkpoint of the highest step in dir, "" if none.
func latestCheckpoint(dir string) (string, error) {
	steps, err := stepCheckpoints(dir)
	if err != nil || len(steps) == 0 {
		return "", err
	}
	return filepath.Join(dir, steps[len(steps)-1]), nil
}

func stepCheckpoints(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("text: %w", err)
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

// pruneCheckpoints keeps the last keep step checkpoints of dir.
func pruneCheckpoints(dir string, keep int) error {
	names, err := stepCheckpoints(dir)
	if err != nil {
		return err
	}
	for len(names) > keep {
		if err := os.Remove(filepath.Join(dir, names[0])); err != nil {
			return fmt.Errorf("text: %w", err)
		}
		names = names[1:]
	}
	return nil
}
