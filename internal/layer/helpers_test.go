package layer

import (
	"archive/tar"
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/strata-containers/strata/internal/mount"
)

var driverNames = []string{"overlay", "vfs"}

func requireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: layers keep owners and device nodes, rootfs are mounts")
	}
}

// openStore opens a fresh store with the named driver, skipping when the
// driver cannot work here, and closes it when the test ends.
func openStore(t testing.TB, driver string) *Store {
	t.Helper()
	requireRoot(t)
	s, err := Open(context.Background(), Options{Root: t.TempDir(), Driver: driver})
	if driver == "overlay" && err != nil {
		t.Skipf("needs overlay: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// forEachDriver runs fn against a fresh store of every driver: the
// conformance suite both must pass.
func forEachDriver(t *testing.T, fn func(t *testing.T, s *Store)) {
	for _, name := range driverNames {
		t.Run(name, func(t *testing.T) { fn(t, openStore(t, name)) })
	}
}

// entry is one tar member; a zero Typeflag means a regular file with Body.
type entry struct {
	Name     string
	Type     byte
	Body     string
	Mode     int64
	Linkname string
}

func file(name, body string) entry { return entry{Name: name, Type: tar.TypeReg, Body: body} }
func dir(name string) entry        { return entry{Name: name, Type: tar.TypeDir} }

// makeTar builds an uncompressed layer tar and its diffID.
func makeTar(t testing.TB, entries ...entry) ([]byte, digest.Digest) {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	mtime := time.Unix(1700000000, 0)
	for _, e := range entries {
		hdr := &tar.Header{Name: e.Name, Typeflag: e.Type, Mode: e.Mode, Linkname: e.Linkname, ModTime: mtime, Format: tar.FormatPAX}
		if hdr.Typeflag == 0 {
			hdr.Typeflag = tar.TypeReg
		}
		if hdr.Mode == 0 {
			hdr.Mode = 0o644
			if hdr.Typeflag == tar.TypeDir {
				hdr.Mode = 0o755
			}
		}
		if hdr.Typeflag == tar.TypeReg {
			hdr.Size = int64(len(e.Body))
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(e.Body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), digest.FromBytes(buf.Bytes())
}

// register registers a layer built from entries and returns it.
func register(t testing.TB, s *Store, parent digest.Digest, entries ...entry) Info {
	t.Helper()
	b, diffID := makeTar(t, entries...)
	info, err := s.Register(context.Background(), parent, diffID, bytes.NewReader(b))
	if err != nil {
		t.Fatalf("register on %s: %v", parent, err)
	}
	return info
}

// mountRW creates a writable layer over parent and mounts it; the rootfs is
// unmounted and the writable layer removed when the test ends.
func mountRW(t testing.TB, s *Store, id string, parent digest.Digest) string {
	t.Helper()
	ms, err := s.CreateRW(context.Background(), id, parent)
	if err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(t.TempDir(), "rootfs")
	if err := os.Mkdir(target, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := mount.UnmountAll(target); err != nil {
			t.Errorf("cleanup: %v", err)
		}
		s.RemoveRW(context.Background(), id)
	})
	if err := mount.All(ms, target); err != nil {
		t.Fatal(err)
	}
	return target
}

// tree describes dir as path -> file content, "<dir>", "-> target" or
// "<type>" for other kinds.
func tree(t testing.TB, dir string) map[string]string {
	t.Helper()
	got := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || path == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		switch {
		case d.IsDir():
			got[rel] = "<dir>"
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(path)
			got[rel] = "-> " + target
			return err
		case d.Type().IsRegular():
			b, err := os.ReadFile(path)
			got[rel] = string(b)
			return err
		default: // devices, fifos: reading could block
			got[rel] = "<" + d.Type().String() + ">"
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// names lists a store subdirectory (layers, tmp, rw).
func names(t testing.TB, s *Store, sub string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(s.root, sub))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

// failReader fails the test if anything reads it.
type failReader struct{ t testing.TB }

func (r failReader) Read([]byte) (int, error) {
	r.t.Error("the stream of an existing layer was read")
	return 0, os.ErrInvalid
}

func diffString(got, want map[string]string) string {
	var b strings.Builder
	for k, v := range want {
		if g, ok := got[k]; !ok {
			b.WriteString("missing " + k + "\n")
		} else if g != v {
			b.WriteString("changed " + k + ": " + g + " (want " + v + ")\n")
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			b.WriteString("extra " + k + "\n")
		}
	}
	return b.String()
}
