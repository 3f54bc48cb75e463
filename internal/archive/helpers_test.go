package archive_test

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// testTime is the mtime of generated entries: fixed, with nanoseconds.
var testTime = time.Unix(1700000000, 123456789)

// entry is one tar entry to build a test archive from.
type entry struct {
	tar.Header
	body string
}

func hdr(typ byte, name string, mode int64) tar.Header {
	return tar.Header{
		Typeflag: typ, Name: name, Mode: mode, ModTime: testTime,
		Uid: os.Geteuid(), Gid: os.Getegid(), Format: tar.FormatPAX,
	}
}

func reg(name, body string) entry {
	h := hdr(tar.TypeReg, name, 0o644)
	h.Size = int64(len(body))
	return entry{h, body}
}

func dir(name string) entry { return entry{Header: hdr(tar.TypeDir, name, 0o755)} }

func symlink(name, target string) entry {
	h := hdr(tar.TypeSymlink, name, 0o777)
	h.Linkname = target
	return entry{Header: h}
}

func hardlink(name, target string) entry {
	h := hdr(tar.TypeLink, name, 0o644)
	h.Linkname = target
	return entry{Header: h}
}

// buildTar returns the tar of entries, in order.
func buildTar(t testing.TB, entries ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := e.Header
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatalf("writing test tar header %q: %v", h.Name, err)
		}
		if _, err := tw.Write([]byte(e.body)); err != nil {
			t.Fatalf("writing test tar body %q: %v", h.Name, err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// listOpts says what a tree listing leaves out.
type listOpts struct {
	noDirTimes bool // directory mtimes (a layer cannot record them for untouched parents)
	noNlink    bool
}

// listTree describes every file below root (root itself excluded), one line
// each, sorted: type, mode, owner, size, content hash, link target, device,
// xattrs, mtime and link count.
func listTree(t testing.TB, root string, o listOpts) []string {
	t.Helper()
	var lines []string
	err := filepath.WalkDir(root, func(p string, _ fs.DirEntry, err error) error {
		if err != nil || p == root {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		lines = append(lines, rel+" "+describe(t, p, o))
		return nil
	})
	if err != nil {
		t.Fatalf("listing %s: %v", root, err)
	}
	slices.Sort(lines)
	return lines
}

func describe(t testing.TB, p string, o listOpts) string {
	var st unix.Stat_t
	if err := unix.Lstat(p, &st); err != nil {
		t.Fatalf("lstat %s: %v", p, err)
	}
	var b strings.Builder
	typ := st.Mode & unix.S_IFMT
	fmt.Fprintf(&b, "type=%o mode=%04o uid=%d gid=%d", typ>>12, st.Mode&0o7777, st.Uid, st.Gid)
	switch typ {
	case unix.S_IFREG:
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		fmt.Fprintf(&b, " size=%d sha=%s", st.Size, hex.EncodeToString(sum[:8]))
	case unix.S_IFLNK:
		target, err := os.Readlink(p)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, " link=%s", target)
	case unix.S_IFCHR, unix.S_IFBLK:
		fmt.Fprintf(&b, " dev=%d:%d", unix.Major(st.Rdev), unix.Minor(st.Rdev))
	}
	fmt.Fprintf(&b, " xattrs=%s", xattrList(t, p))
	if typ != unix.S_IFDIR || !o.noDirTimes {
		fmt.Fprintf(&b, " mtime=%d.%09d", st.Mtim.Sec, st.Mtim.Nsec)
	}
	if typ != unix.S_IFDIR && !o.noNlink {
		fmt.Fprintf(&b, " nlink=%d", st.Nlink)
	}
	return b.String()
}

func xattrList(t testing.TB, p string) string {
	buf := make([]byte, 64<<10)
	n, err := unix.Llistxattr(p, buf)
	if err != nil {
		t.Fatalf("llistxattr %s: %v", p, err)
	}
	var kv []string
	for _, name := range strings.Split(string(buf[:n]), "\x00") {
		if name == "" {
			continue
		}
		val := make([]byte, 64<<10)
		m, err := unix.Lgetxattr(p, name, val)
		if err != nil {
			t.Fatalf("lgetxattr %s %s: %v", p, name, err)
		}
		kv = append(kv, name+"="+hex.EncodeToString(val[:m]))
	}
	slices.Sort(kv)
	return "[" + strings.Join(kv, ",") + "]"
}

// diffLists fails the test with the lines that differ between want and got.
func diffLists(t testing.TB, what string, want, got []string) {
	t.Helper()
	w := map[string]bool{}
	for _, l := range want {
		w[l] = true
	}
	g := map[string]bool{}
	for _, l := range got {
		g[l] = true
	}
	var msgs []string
	for _, l := range want {
		if !g[l] {
			msgs = append(msgs, "- "+l)
		}
	}
	for _, l := range got {
		if !w[l] {
			msgs = append(msgs, "+ "+l)
		}
	}
	if len(msgs) > 0 {
		t.Errorf("%s differ (- want, + got):\n%s", what, strings.Join(msgs, "\n"))
	}
}

// tarNames lists the entry names of a tar, in order, with their type flag.
func tarNames(t testing.TB, data []byte) []string {
	t.Helper()
	tr := tar.NewReader(bytes.NewReader(data))
	var names []string
	for {
		h, err := tr.Next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return names
			}
			t.Fatalf("reading tar: %v", err)
		}
		names = append(names, fmt.Sprintf("%c %s", h.Typeflag, h.Name))
	}
}

func writeFile(t testing.TB, p, body string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readFile(t testing.TB, p string) string {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
