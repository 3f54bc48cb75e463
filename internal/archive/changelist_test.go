package archive_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/strata-containers/strata/internal/archive"
)

// TestOverlayChanges builds an upper directory as overlayfs leaves it (a
// whiteout device, an opaque directory, copied-up directories) over two
// lower layers and checks docker diff's lines and order.
func TestOverlayChanges(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: makes whiteout devices and trusted.* xattrs")
	}
	base, mid, upper := t.TempDir(), t.TempDir(), t.TempDir()
	old := time.Unix(1000, 0)
	for _, d := range []string{"etc", "usr/bin", "var/cache", "srv"} {
		mkdirs(t, base, d)
	}
	writeFile(t, filepath.Join(base, "etc/passwd"), "root")
	writeFile(t, filepath.Join(base, "etc/gone"), "x")
	writeFile(t, filepath.Join(base, "var/cache/a"), "a")
	writeFile(t, filepath.Join(mid, "usr-only"), "m")
	for _, d := range []string{"etc", "usr", "usr/bin", "var", "var/cache", "srv"} {
		os.Chtimes(filepath.Join(base, d), old, old)
	}

	// etc: copied up (same metadata), passwd changed, gone deleted, new added.
	mkdirs(t, upper, "etc")
	writeFile(t, filepath.Join(upper, "etc/passwd"), "root2")
	if err := unix.Mknod(filepath.Join(upper, "etc/gone"), unix.S_IFCHR, 0); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(upper, "etc/new"), "n")
	os.Chtimes(filepath.Join(upper, "etc"), old, old)
	// usr/bin: copied up for a new file deep down.
	mkdirs(t, upper, "usr/bin")
	writeFile(t, filepath.Join(upper, "usr/bin/tool"), "t")
	os.Chtimes(filepath.Join(upper, "usr"), old, old)
	os.Chtimes(filepath.Join(upper, "usr/bin"), old, old)
	// var/cache: emptied and refilled (opaque).
	mkdirs(t, upper, "var/cache")
	if err := unix.Setxattr(filepath.Join(upper, "var/cache"), "trusted.overlay.opaque", []byte("y"), 0); err != nil {
		t.Skipf("needs trusted.* xattrs on %s: %v", upper, err)
	}
	writeFile(t, filepath.Join(upper, "var/cache/b"), "b")
	os.Chtimes(filepath.Join(upper, "var"), old, old)
	// a new top-level directory, and a file of the middle layer changed.
	mkdirs(t, upper, "home/me")
	writeFile(t, filepath.Join(upper, "usr-only"), "changed")

	got, err := archive.OverlayChanges(context.Background(), upper, []string{mid, base})
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, c := range got {
		lines = append(lines, c.String())
	}
	want := []string{
		"C /etc", "D /etc/gone", "A /etc/new", "C /etc/passwd",
		"A /home", "A /home/me",
		"C /usr/bin", "A /usr/bin/tool", // /usr itself is unchanged
		"C /usr-only",
		"C /var", "D /var/cache", "A /var/cache/b",
	}
	if !slices.Equal(lines, want) {
		t.Errorf("changes:\n got %q\nwant %q", lines, want)
	}
}

func mkdirs(t *testing.T, root, rel string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(root, rel), 0o755); err != nil {
		t.Fatal(err)
	}
}
