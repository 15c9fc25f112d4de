package conformance

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/gendl/gendl/runtime/engine"
	"github.com/gendl/gendl/runtime/testset"
)

var report = flag.Bool("report-skipped", false, "also run skipped cases and log those that pass")

type entry struct {
	pass   bool
	reason string
}

func readManifest(t *testing.T) map[string]entry {
	t.Helper()
	f, err := os.Open("manifest.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m := map[string]entry{}
	sc := bufio.NewScanner(f)
	for ln := 1; sc.Scan(); ln++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		kind, rest, _ := strings.Cut(line, " ")
		var name, reason string
		switch kind {
		case "pass":
			name = strings.TrimSpace(rest)
		case "skip":
			var ok bool
			name, reason, ok = strings.Cut(rest, ":")
			if !ok || strings.TrimSpace(reason) == "" {
				t.Fatalf("manifest.txt:%d: a skip needs a reason: %q", ln, line)
			}
		default:
			t.Fatalf("manifest.txt:%d: want \"pass <case>\" or \"skip <case>: <reason>\", got %q", ln, line)
		}
		name = strings.TrimSpace(name)
		if _, dup := m[name]; dup {
			t.Fatalf("manifest.txt:%d: %s listed twice", ln, name)
		}
		m[name] = entry{pass: kind == "pass", reason: strings.TrimSpace(reason)}
	}
	return m
}

func runCase(dir string) error {
	p, err := engine.LoadFile(filepath.Join(dir, "model.onnx"), engine.Options{})
	if err != nil {
		return err
	}
	s := p.NewSession(engine.SessionOptions{})
	sets, err := testset.DataSets(dir)
	if err != nil {
		return err
	}
	for _, ds := range sets {
		// Run twice: a session must give the same answer when it reuses its buffers.
		for range 2 {
			res, err := testset.Run(s, p, ds, ds, testset.DefaultRTol, testset.DefaultATol)
			if err != nil {
				return err
			}
			if err := res.Err(); err != nil {
				return err
			}
			// What planning inferred must hold for what running produced.
			for name, got := range res.Got {
				if typ, ok := p.ValueType(name); ok && !typ.Compatible(got) {
					return fmt.Errorf("output %q: plan inferred %v, run produced %v", name, typ, got)
				}
			}
		}
	}
	return nil
}

// TestManifest runs every case the manifest expects to pass, and checks that the manifest
// covers every vendored case.
func TestManifest(t *testing.T) {
	m := readManifest(t)
	dirs, err := filepath.Glob("testdata/node/test_*")
	if err != nil {
		t.Fatal(err)
	}
	onDisk := map[string]bool{}
	for _, d := range dirs {
		onDisk[filepath.Base(d)] = true
	}
	for name := range m {
		if !onDisk[name] {
			t.Errorf("manifest.txt lists %s, which is not in testdata/node", name)
		}
	}
	var nowPass []string
	passed := 0
	for _, d := range dirs {
		name := filepath.Base(d)
		e, ok := m[name]
		if !ok {
			t.Errorf("%s is not in manifest.txt: add \"pass %s\" or \"skip %s: <reason>\"", name, name, name)
			continue
		}
		if !e.pass {
			if *report && runCase(d) == nil {
				nowPass = append(nowPass, name)
			}
			continue
		}
		t.Run(name, func(t *testing.T) {
			if err := runCase(d); err != nil {
				t.Fatal(err)
			}
			passed++
		})
	}
	t.Logf("conformance: %d cases passed of %d expected to pass (%d vendored)", passed, countPass(m), len(dirs))
	if len(nowPass) > 0 {
		sort.Strings(nowPass)
		t.Logf("skipped cases that pass now (promote them):\n%s", strings.Join(nowPass, "\n"))
	}
}

func countPass(m map[string]entry) int {
	n := 0
	for _, e := range m {
		if e.pass {
			n++
		}
	}
	return n
}
