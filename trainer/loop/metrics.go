package loop

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
)

// AppendJSONL appends v as one JSON line to path (metrics.jsonl).
func AppendJSONL(path string, v any) error {
	line, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("loop: %w", err)
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("loop: %w", err)
	}
	_, err = f.Write(append(line, '\n'))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("loop: %w", err)
	}
	return nil
}

// ReadJSONL reads a JSON-lines file into a slice of T. A line that key maps to the same
// value as an earlier one replaces it (a resumed run rewrites the epochs after its
// checkpoint); the order is that of first appearance.
func ReadJSONL[T any, K comparable](path string, key func(T) K) ([]T, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("loop: %w", err)
	}
	defer f.Close()
	var out []T
	at := map[K]int{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64*1024), 16<<20)
	for n := 1; sc.Scan(); n++ {
		var v T
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			return nil, fmt.Errorf("loop: %s line %d: %w", path, n, err)
		}
		k := key(v)
		if i, ok := at[k]; ok {
			out[i] = v
			continue
		}
		at[k] = len(out)
		out = append(out, v)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("loop: %s: %w", path, err)
	}
	return out, nil
}
