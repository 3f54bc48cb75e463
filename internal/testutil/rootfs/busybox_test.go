package rootfs

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"io"
	"testing"
)

func TestBusyboxRootfsIsCompleteAndReproducible(t *testing.T) {
	bb, err := Find()
	if err != nil {
		t.Skip(err.Error())
	}
	var a, b bytes.Buffer
	if err := WriteBusybox(&a, bb); err != nil {
		t.Fatal(err)
	}
	if err := WriteBusybox(&b, bb); err != nil {
		t.Fatal(err)
	}
	if sha256.Sum256(a.Bytes()) != sha256.Sum256(b.Bytes()) {
		t.Fatal("two runs gave different tarballs: the image ID would not be stable")
	}
	entries := map[string]*tar.Header{}
	tr := tar.NewReader(&a)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		entries[h.Name] = h
	}
	for _, want := range []string{"bin/busybox", "bin/sh", "etc/passwd", "etc/group", "tmp/"} {
		if entries[want] == nil {
			t.Errorf("rootfs lacks %s", want)
		}
	}
	if h := entries["bin/sh"]; h != nil && (h.Typeflag != tar.TypeSymlink || h.Linkname != "/bin/busybox") {
		t.Errorf("bin/sh is %c -> %q, want a symlink to /bin/busybox", h.Typeflag, h.Linkname)
	}
	if h := entries["tmp/"]; h != nil && h.Mode != 0o1777 {
		t.Errorf("tmp mode %o, want 1777", h.Mode)
	}
}

func TestCheckBusyboxRejectsDynamicBinaries(t *testing.T) {
	if err := CheckBusybox("/bin/ls"); err == nil {
		t.Fatal("a dynamically linked /bin/ls was accepted as a static busybox")
	}
}
