package layer

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	"golang.org/x/sys/unix"

	"github.com/strata-containers/strata/internal/errdefs"
)

// rawEntry is one member of a tar built by rawTar: a header and its body.
type rawEntry struct {
	hdr  tar.Header
	body string
}

func reg(name, body string) rawEntry {
	return rawEntry{hdr: tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: int64(len(body))}, body: body}
}

func rdir(name string) rawEntry {
	return rawEntry{hdr: tar.Header{Typeflag: tar.TypeDir, Name: name, Mode: 0o755}}
}

func rlink(typ byte, name, target string) rawEntry {
	return rawEntry{hdr: tar.Header{Typeflag: typ, Name: name, Linkname: target, Mode: 0o777}}
}

// rawTar writes entries in format (with end blocks when end) and returns
// the bytes.
func rawTar(t testing.TB, format tar.Format, end bool, entries ...rawEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		hdr := e.hdr
		hdr.Format = format
		hdr.ModTime = time.Unix(1700000000, 123456789)
		if format != tar.FormatPAX {
			hdr.ModTime = hdr.ModTime.Truncate(time.Second)
		}
		if err := tw.WriteHeader(&hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(tw, e.body); err != nil {
			t.Fatal(err)
		}
	}
	var err error
	if end {
		err = tw.Close()
	} else {
		err = tw.Flush()
	}
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// registerBytes registers tarball on parent, checking its diffID.
func registerBytes(t testing.TB, s *Store, parent digest.Digest, tarball []byte) Info {
	t.Helper()
	info, err := s.Register(context.Background(), parent, digest.FromBytes(tarball), bytes.NewReader(tarball))
	if err != nil {
		t.Fatalf("register: %v", err)
	}
	return info
}

// checkDiff asserts that Diff rebuilds exactly want.
func checkDiff(t testing.TB, s *Store, info Info, want []byte) {
	t.Helper()
	if !info.TarSplit || info.TarSize != int64(len(want)) {
		t.Fatalf("layer %s: TarSplit %v, TarSize %d; want true, %d", info.ChainID, info.TarSplit, info.TarSize, len(want))
	}
	rc, err := s.Diff(context.Background(), info.ChainID)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	got, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("reading the rebuilt tar: %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("rebuilt tar differs: %d bytes, want %d (first difference at %d)", len(got), len(want), firstDiff(got, want))
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func TestDiffRebuildsTar(t *testing.T) {
	long := strings.Repeat("long-directory-name/", 8) + strings.Repeat("f", 120)
	files := []rawEntry{
		rdir("etc/"), reg("etc/passwd", "root:x:0:0::/root:/bin/sh\n"), reg("etc/empty", ""),
		rlink(tar.TypeSymlink, "etc/link", "passwd"), rlink(tar.TypeLink, "etc/hard", "etc/passwd"),
		reg("big", strings.Repeat("0123456789abcdef", 4096+7)),
		{hdr: tar.Header{Typeflag: tar.TypeChar, Name: "null", Mode: 0o666, Devmajor: 1, Devminor: 3}},
		{hdr: tar.Header{Typeflag: tar.TypeFifo, Name: "fifo", Mode: 0o600}},
	}
	xattrs := reg("caps", "binary")
	xattrs.hdr.PAXRecords = map[string]string{"SCHILY.xattr.user.note": "hello", "SCHILY.xattr.trusted.t": "x"}
	longEntries := []rawEntry{rdir(long[:strings.LastIndex(long, "/")+1]), reg(long, "deep"), rlink(tar.TypeSymlink, "to-long", long)}
	unpadded := rawTar(t, tar.FormatPAX, false, rdir("d/"), reg("d/f", "odd size"))
	cases := map[string][]byte{
		"pax":             rawTar(t, tar.FormatPAX, true, files...),
		"gnu":             rawTar(t, tar.FormatGNU, true, files...),
		"ustar":           rawTar(t, tar.FormatUSTAR, true, files[:6]...),
		"pax xattrs":      rawTar(t, tar.FormatPAX, true, rdir("bin/"), xattrs),
		"pax long names":  rawTar(t, tar.FormatPAX, true, longEntries...),
		"gnu long names":  rawTar(t, tar.FormatGNU, true, longEntries...),
		"no end blocks":   rawTar(t, tar.FormatPAX, false, files...),
		"no last padding": unpadded[:len(unpadded)-(512-len("odd size"))],
		"blocking factor": append(rawTar(t, tar.FormatPAX, true, files...), make([]byte, 8192)...),
		"trailing data":   append(rawTar(t, tar.FormatPAX, true, files...), "not a tar"...),
		"only end blocks": make([]byte, 1024),
		"empty stream":    {},
	}
	if b, err := gnuTar(t); err == nil {
		cases["GNU tar"] = b
	} else {
		t.Logf("no GNU tar case: %v", err)
	}
	forEachDriver(t, func(t *testing.T, s *Store) {
		for name, tarball := range cases {
			t.Run(name, func(t *testing.T) {
				checkDiff(t, s, registerBytes(t, s, "", tarball), tarball)
			})
		}
	})
}

// gnuTar makes a layer with GNU tar (default format, --xattrs): long names
// as 'L' entries, hardlinks, symlinks, xattrs, a blocking factor of 20.
func gnuTar(t *testing.T) ([]byte, error) {
	if _, err := exec.LookPath("tar"); err != nil {
		return nil, err
	}
	src := t.TempDir()
	long := filepath.Join(src, strings.Repeat("d", 90), strings.Repeat("e", 90))
	for _, d := range []string{long, filepath.Join(src, "bin")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for name, body := range map[string]string{"bin/sh": "#!shell", filepath.Join(long, strings.Repeat("f", 120)): "long"} {
		if err := os.WriteFile(filepath.Join(src, strings.TrimPrefix(name, src)), []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Link(filepath.Join(src, "bin/sh"), filepath.Join(src, "bin/ash")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/bin/sh", filepath.Join(src, "sh")); err != nil {
		t.Fatal(err)
	}
	if err := unix.Setxattr(filepath.Join(src, "bin/sh"), "user.gnu", []byte("yes"), 0); err != nil {
		t.Fatal(err)
	}
	return exec.Command("tar", "--xattrs", "-C", src, "-cf", "-", ".").Output()
}

// TestDiffWhiteouts registers a chain whose top layer deletes and hides
// what its parent wrote: its tar rebuilds exactly, in overlay's form (a
// whiteout device, an opaque xattr) and in vfs's (the files are gone).
func TestDiffWhiteouts(t *testing.T) {
	forEachDriver(t, func(t *testing.T, s *Store) {
		base := rawTar(t, tar.FormatPAX, true, rdir("etc/"), reg("etc/a", "a"), reg("etc/b", "b"),
			rdir("opq/"), reg("opq/old", "old"), rdir("gone/"), reg("gone/x", "x"))
		top := rawTar(t, tar.FormatPAX, true, rdir("etc/"), reg("etc/.wh.b", ""), reg("etc/a", "a2"),
			rdir("opq/"), reg("opq/.wh..wh..opq", ""), reg("opq/new", "new"), reg(".wh.gone", ""))
		l1 := registerBytes(t, s, "", base)
		l2 := registerBytes(t, s, l1.ChainID, top)
		checkDiff(t, s, l1, base)
		checkDiff(t, s, l2, top)
	})
}

// TestDiffCannotRebuild: a tar that changes what it wrote itself leaves the
// directory without the content it wrote first; the layer registers but
// keeps no metadata, and Diff says so.
func TestDiffCannotRebuild(t *testing.T) {
	cases := map[string][]rawEntry{
		"whiteout of its own file": {rdir("d/"), reg("d/f", "x"), reg("d/.wh.f", "")},
		"whiteout of its own dir":  {rdir("d/"), reg("d/f", "x"), reg(".wh.d", "")},
		"file written twice":       {reg("a", "1"), reg("a", "2")},
		"file replaced by a dir":   {reg("a", "1"), rdir("a/")},
		"dir replaced by symlink":  {rdir("d/"), reg("d/f", "x"), rlink(tar.TypeSymlink, "d", "/")},
	}
	forEachDriver(t, func(t *testing.T, s *Store) {
		for name, entries := range cases {
			t.Run(name, func(t *testing.T) {
				info := registerBytes(t, s, "", rawTar(t, tar.FormatPAX, true, entries...))
				if info.TarSplit {
					t.Fatal("TarSplit is set for a tar that cannot be rebuilt")
				}
				if _, err := os.Stat(filepath.Join(s.layerPath(info.ChainID), splitFile)); !os.IsNotExist(err) {
					t.Fatalf("metadata left behind: %v", err)
				}
				if _, err := s.Diff(context.Background(), info.ChainID); !errdefs.IsNotFound(err) {
					t.Fatalf("Diff: %v, want not found", err)
				}
			})
		}
	})
}

// TestDiffDetectsDamage changes a layer's directory behind the store's
// back: the rebuilt tar fails with data loss instead of passing on bytes
// that are not the layer's.
func TestDiffDetectsDamage(t *testing.T) {
	damage := map[string]func(dir string) error{
		"byte flipped": func(dir string) error {
			return flipByte(filepath.Join(dir, "etc/passwd"), 3)
		},
		"file truncated": func(dir string) error { return os.Truncate(filepath.Join(dir, "big"), 10) },
		"file removed":   func(dir string) error { return os.Remove(filepath.Join(dir, "etc/passwd")) },
		"file became a symlink": func(dir string) error {
			p := filepath.Join(dir, "etc/passwd")
			return errors.Join(os.Remove(p), os.Symlink("/etc/passwd", p))
		},
	}
	tarball := rawTar(t, tar.FormatPAX, true, rdir("etc/"), reg("etc/passwd", "root:x:0:0"), reg("big", strings.Repeat("x", 70000)))
	forEachDriver(t, func(t *testing.T, s *Store) {
		for name, fn := range damage {
			t.Run(name, func(t *testing.T) {
				info := registerBytes(t, s, "", tarball)
				t.Cleanup(func() { s.Remove(context.Background(), info.ChainID) })
				if err := fn(s.Dir(info.ChainID)); err != nil {
					t.Fatal(err)
				}
				rc, err := s.Diff(context.Background(), info.ChainID)
				if err != nil {
					t.Fatal(err)
				}
				defer rc.Close()
				if _, err := io.ReadAll(rc); !errdefs.IsDataLoss(err) {
					t.Fatalf("reading a damaged layer: %v, want data loss", err)
				}
			})
		}
	})
}

func flipByte(path string, at int64) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, at); err != nil {
		return err
	}
	b[0] ^= 0xff
	_, err = f.WriteAt(b, at)
	return err
}
