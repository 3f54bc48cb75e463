package cli

// Helpers of the end-to-end tests: they build the strata binary once and
// run it as a user would, against a temporary --root.

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/strata-containers/strata/internal/testutil"
)

var built struct {
	once sync.Once
	dir  string
	path string
	err  error
}

// strataBinary builds cmd/strata once per test run.
func strataBinary(t *testing.T) string {
	t.Helper()
	built.once.Do(func() {
		built.dir, built.err = os.MkdirTemp("", "strata-e2e-")
		if built.err != nil {
			return
		}
		built.path = filepath.Join(built.dir, "strata")
		// strata-monitor next to strata, as installed (see monitorExeTest
		// for strata on its own).
		out, err := exec.Command("go", "build", "-o", built.dir+"/", "github.com/strata-containers/strata/cmd/strata",
			"github.com/strata-containers/strata/cmd/strata-monitor").CombinedOutput()
		if err != nil {
			built.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	return built.path
}

// removeBinary is called by TestMain when the tests are done.
func removeBinary() {
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
}

// store is a temporary --root that commands run against.
type store struct {
	t    *testing.T
	bin  string
	root string
}

// newStore needs root: layers are unpacked with their owners and device
// nodes, and the default driver is overlay.
func newStore(t *testing.T) *store {
	t.Helper()
	testutil.RequireRoot(t)
	return &store{t: t, bin: strataBinary(t), root: t.TempDir()}
}

type result struct {
	stdout, stderr string
	code           int
}

func (s *store) command(stdin io.Reader, args ...string) *exec.Cmd {
	full := append([]string{"--root", s.root, "--runroot", filepath.Join(s.root, "run")}, args...)
	cmd := exec.Command(s.bin, full...)
	cmd.Stdin = stdin
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "STRATA_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	return cmd
}

// run runs strata with stdin (nil: empty) and returns what it printed.
func (s *store) run(stdin io.Reader, args ...string) result {
	s.t.Helper()
	if stdin == nil {
		stdin = strings.NewReader("")
	}
	cmd := s.command(stdin, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var exit *exec.ExitError
	code := 0
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else if err != nil {
		s.t.Fatalf("strata %v: %v", args, err)
	}
	return result{stdout: out.String(), stderr: errb.String(), code: code}
}

// ok runs strata and fails the test unless it succeeds.
func (s *store) ok(stdin io.Reader, args ...string) string {
	s.t.Helper()
	r := s.run(stdin, args...)
	if r.code != 0 {
		s.t.Fatalf("strata %v: exit %d\nstdout: %s\nstderr: %s", args, r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// writeFile writes data to a file in the test's temporary directory.
func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// layerTar is an uncompressed layer: files name -> content.
func layerTar(t *testing.T, files map[string][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, name := range slices.Sorted(maps.Keys(files)) {
		hdr := &tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(files[name])),
			ModTime: time.Unix(1700000000, 0)}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(files[name]); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// randomBytes is incompressible, reproducible filler.
func randomBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// testImage is an image for dockerArchive: its tags and its layers, bottom first.
type testImage struct {
	tags   []string
	layers [][]byte
}

func sha(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// dockerArchive writes a classic `docker save` archive of imgs, as Docker
// before 25 did; a layer shared by several images is written once.
func dockerArchive(t *testing.T, imgs ...testImage) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	add := func(name string, data []byte) {
		if err := tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(data))}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	written := map[string]bool{}
	var manifest []map[string]any
	for i, img := range imgs {
		var diffIDs, paths []string
		var history []map[string]any
		created := time.Unix(1700000000+int64(i)*60, 0).UTC()
		for j, l := range img.layers {
			h := sha(l)
			diffIDs = append(diffIDs, "sha256:"+h)
			paths = append(paths, h+"/layer.tar")
			history = append(history, map[string]any{"created": created, "created_by": fmt.Sprintf("layer %d", j)})
			if !written[h] {
				written[h] = true
				add(h+"/layer.tar", l)
			}
		}
		config, err := json.Marshal(map[string]any{
			"architecture": runtime.GOARCH, "os": "linux", "created": created,
			"config": map[string]any{"Cmd": []string{"sh"}, "Labels": map[string]string{"index": fmt.Sprint(i)}},
			"rootfs": map[string]any{"type": "layers", "diff_ids": diffIDs}, "history": history,
		})
		if err != nil {
			t.Fatal(err)
		}
		add(sha(config)+".json", config)
		manifest = append(manifest, map[string]any{"Config": sha(config) + ".json", "RepoTags": img.tags, "Layers": paths})
	}
	data, err := json.Marshal(manifest)
	if err != nil {
		t.Fatal(err)
	}
	add("manifest.json", data)
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// lines splits output into its non-empty lines.
func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}

// dirEntries lists what a directory holds ("" entries if it does not exist).
func dirEntries(t *testing.T, pattern string) []string {
	t.Helper()
	dirs, err := filepath.Glob(pattern)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, d := range dirs {
		entries, err := os.ReadDir(d)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			names = append(names, filepath.Join(d, e.Name()))
		}
	}
	return names
}
