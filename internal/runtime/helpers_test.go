package runtime

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/strata-containers/strata/internal/errdefs"
	"github.com/strata-containers/strata/internal/testutil"
)

// TestMain lets the test binary serve as the container init (and as the
// probe some tests run inside containers) before it runs tests.
func TestMain(m *testing.M) {
	Init()
	if os.Getenv(exeProbeEnv) == "1" {
		os.Exit(exeProbe())
	}
	os.Exit(m.Run())
}

var (
	busyboxOnce sync.Once
	busyboxTar  []byte
)

// requireContainers skips unless this host can run containers here.
func requireContainers(t testing.TB) {
	t.Helper()
	testutil.RequireRoot(t)
	if _, err := os.Stat("/proc/self/ns/cgroup"); err != nil {
		t.Skip("needs cgroup namespaces (/proc/self/ns/cgroup)")
	}
}

// newBundle extracts a busybox rootfs into a new bundle directory and
// returns it with a Docker-like spec running args; the test adjusts the
// spec and the helpers write it.
func newBundle(t testing.TB, args ...string) (string, *specs.Spec) {
	t.Helper()
	requireContainers(t)
	busyboxOnce.Do(func() { busyboxTar = testutil.BusyboxRootfs(t) })
	if busyboxTar == nil {
		t.Skip("needs Debian's busybox-static")
	}
	bundle := t.TempDir()
	extract(t, busyboxTar, filepath.Join(bundle, "rootfs"))
	return bundle, dockerSpec(args)
}

// extract unpacks trusted test data: directories, files and symlinks.
func extract(t testing.TB, data []byte, dir string) {
	t.Helper()
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, h.Name)
		switch h.Typeflag {
		case tar.TypeDir:
			err = os.MkdirAll(p, os.FileMode(h.Mode)&os.ModePerm)
			if err == nil {
				err = os.Chmod(p, os.FileMode(h.Mode)&os.ModePerm|modeSticky(h.Mode))
			}
		case tar.TypeReg:
			var content []byte
			if content, err = io.ReadAll(tr); err == nil {
				err = os.WriteFile(p, content, os.FileMode(h.Mode)&os.ModePerm)
			}
		case tar.TypeSymlink:
			err = os.Symlink(h.Linkname, p)
		}
		if err != nil {
			t.Fatalf("extracting %s: %v", h.Name, err)
		}
	}
}

func modeSticky(mode int64) os.FileMode {
	if mode&0o1000 != 0 {
		return os.ModeSticky
	}
	return 0
}

func writeSpec(t testing.TB, bundle string, spec *specs.Spec) {
	t.Helper()
	data, err := json.MarshalIndent(spec, "", "\t")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bundle, "config.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func newRuntime(t testing.TB) *Runtime {
	t.Helper()
	rt, err := New(filepath.Join(t.TempDir(), "state"))
	if err != nil {
		t.Fatal(err)
	}
	return rt
}

func newID(t testing.TB) string {
	b := make([]byte, 6)
	rand.Read(b)
	return "test-" + hex.EncodeToString(b)
}

// forceDelete removes the container when the test ends, whatever happened.
func forceDelete(t testing.TB, rt *Runtime, id string) {
	t.Cleanup(func() {
		err := rt.Delete(context.Background(), id, true)
		if err != nil && !errdefs.IsNotFound(err) {
			t.Errorf("cleanup of container %s: %v", id, err)
		}
	})
}

// output collects what a container writes to a pipe.
type output struct {
	r    *os.File
	w    *os.File
	done chan struct{}
	buf  bytes.Buffer
}

func newOutput(t testing.TB) *output {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	o := &output{r: r, w: w, done: make(chan struct{})}
	t.Cleanup(func() { r.Close(); w.Close() })
	return o
}

// collect starts reading once the container holds the write end.
func (o *output) collect() {
	o.w.Close()
	go func() {
		io.Copy(&o.buf, o.r)
		close(o.done)
	}()
}

func (o *output) String() string {
	<-o.done
	return o.buf.String()
}

// result is what a container run produced.
type result struct {
	stdout, stderr string
	code           int
}

// run creates, starts, waits for and deletes a container of spec.
func run(t testing.TB, rt *Runtime, bundle string, spec *specs.Spec) result {
	t.Helper()
	ctx := context.Background()
	writeSpec(t, bundle, spec)
	id := newID(t)
	stdout, stderr := newOutput(t), newOutput(t)
	forceDelete(t, rt, id)
	if err := rt.Create(ctx, id, bundle, CreateOpts{Stdout: stdout.w, Stderr: stderr.w}); err != nil {
		t.Fatalf("create: %v", err)
	}
	stdout.collect()
	stderr.collect()
	if err := rt.Start(ctx, id); err != nil {
		t.Fatalf("start: %v", err)
	}
	code, err := rt.Wait(ctx, id)
	if err != nil {
		t.Fatalf("wait: %v", err)
	}
	res := result{stdout: stdout.String(), stderr: stderr.String(), code: code}
	if err := rt.Delete(ctx, id, false); err != nil {
		t.Fatalf("delete: %v", err)
	}
	return res
}

func lines(s string) []string {
	return strings.Split(strings.TrimSpace(s), "\n")
}
