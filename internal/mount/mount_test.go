package mount

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/strata-containers/strata/internal/errdefs"
)

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: mounts")
	}
}

func requireOverlay(t *testing.T) {
	t.Helper()
	requireRoot(t)
	fs, err := os.ReadFile("/proc/filesystems")
	if err != nil || !strings.Contains(string(fs), "\toverlay\n") {
		t.Skip("needs overlay: not in /proc/filesystems")
	}
}

// mountpoint returns a fresh directory that is unmounted (everything stacked
// on it) when the test ends, whatever happened.
func mountpoint(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "mnt")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := UnmountAll(dir); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	return dir
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// overlayDirs makes n lower directories (lowers[0] topmost), each holding a
// file named after it and a shared file "who" that the topmost one wins, plus
// an upper and a work directory.
func overlayDirs(t *testing.T, n int, name func(i int) string) (lowers []string, upper, work string) {
	t.Helper()
	base := t.TempDir()
	for i := range n {
		dir := filepath.Join(base, name(i))
		writeFile(t, filepath.Join(dir, fmt.Sprintf("f%d", i)), name(i))
		writeFile(t, filepath.Join(dir, "who"), name(i))
		lowers = append(lowers, dir)
	}
	upper, work = filepath.Join(base, "upper"), filepath.Join(base, "work")
	for _, d := range []string{upper, work} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return lowers, upper, work
}

func overlayMount(lowers []string, upper, work string) Mount {
	escaped := make([]string, len(lowers))
	for i, l := range lowers {
		escaped[i] = EscapeLowerDir(l)
	}
	return Mount{Type: "overlay", Source: "overlay", Options: []string{
		"lowerdir=" + strings.Join(escaped, ":"), "upperdir=" + upper, "workdir=" + work, "index=off",
	}}
}

func TestOverlayThreeLowers(t *testing.T) {
	requireOverlay(t)
	lowers, upper, work := overlayDirs(t, 3, func(i int) string { return fmt.Sprintf("l%d", i) })
	target := mountpoint(t)
	if err := overlayMount(lowers, upper, work).Mount(target); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if got := readFile(t, filepath.Join(target, fmt.Sprintf("f%d", i))); got != fmt.Sprintf("l%d", i) {
			t.Errorf("f%d = %q", i, got)
		}
	}
	if got := readFile(t, filepath.Join(target, "who")); got != "l0" {
		t.Errorf("who = %q, want the topmost lower l0", got)
	}
	writeFile(t, filepath.Join(target, "new"), "written")
	if got := readFile(t, filepath.Join(upper, "new")); got != "written" {
		t.Errorf("upper/new = %q", got)
	}
	for _, l := range lowers {
		if _, err := os.Stat(filepath.Join(l, "new")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("write reached lower %s: %v", l, err)
		}
	}
	if ok, err := IsMountPoint(target); err != nil || !ok {
		t.Errorf("IsMountPoint(%s) = %v, %v", target, ok, err)
	}
}

// longLowerName makes directory names so long that 150 of them overflow the
// page mount(2) accepts several times over.
func longLowerName(i int) string {
	return fmt.Sprintf("%03d-%s", i, strings.Repeat("x", 76))
}

func TestOverlayManyLongLowers(t *testing.T) {
	requireOverlay(t)
	lowers, upper, work := overlayDirs(t, 150, longLowerName)
	m := overlayMount(lowers, upper, work)
	if n := len(strings.Join(m.Options, ",")); n < 3*pageSize {
		t.Fatalf("options are only %d bytes; the test wants them to overflow mount(2)", n)
	}
	target := mountpoint(t)
	if err := m.Mount(target); err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{0, 149} {
		if got := readFile(t, filepath.Join(target, fmt.Sprintf("f%d", i))); got != longLowerName(i) {
			t.Errorf("f%d = %q", i, got)
		}
	}
}

// TestOverlayDataFallback drives the mount(2) path that kernels before 6.8
// take: it must mount what fits in a page and refuse the rest clearly.
func TestOverlayDataFallback(t *testing.T) {
	requireOverlay(t)
	lowers, upper, work := overlayDirs(t, 2, func(i int) string { return fmt.Sprintf("l%d", i) })
	target := mountpoint(t)
	if err := overlayMount(lowers, upper, work).mountOverlayData(target); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, filepath.Join(target, "who")); got != "l0" {
		t.Errorf("who = %q, want l0", got)
	}

	lowers, upper, work = overlayDirs(t, 150, longLowerName)
	err := overlayMount(lowers, upper, work).mountOverlayData(mountpoint(t))
	if !errdefs.IsUnavailable(err) {
		t.Fatalf("too long for mount(2): got %v, want an unavailable error", err)
	}
}

func TestOverlayErrorNamesCause(t *testing.T) {
	requireOverlay(t)
	lowers, upper, work := overlayDirs(t, 1, func(int) string { return "l" })
	lowers = append(lowers, filepath.Join(t.TempDir(), "missing"))
	err := overlayMount(lowers, upper, work).Mount(mountpoint(t))
	if err == nil || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("got %v, want an error naming the missing lower", err)
	}
	t.Log(err)
}

func TestBindReadOnly(t *testing.T) {
	requireRoot(t)
	src := t.TempDir()
	writeFile(t, filepath.Join(src, "a"), "a")
	target := mountpoint(t)
	m := Mount{Type: "bind", Source: src, Options: []string{"rbind", "ro", "nosuid"}}
	if err := m.Mount(target); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, filepath.Join(target, "a")); got != "a" {
		t.Errorf("a = %q", got)
	}
	err := os.WriteFile(filepath.Join(target, "b"), nil, 0o644)
	if !errors.Is(err, unix.EROFS) {
		t.Errorf("write to a read-only bind: %v, want EROFS", err)
	}
	var st unix.Statfs_t
	if err := unix.Statfs(target, &st); err != nil {
		t.Fatal(err)
	}
	if st.Flags&unix.ST_NOSUID == 0 || st.Flags&unix.ST_RDONLY == 0 {
		t.Errorf("statfs flags %#x lack ro/nosuid", st.Flags)
	}
	// The source stays writable: only the new mount is read-only.
	writeFile(t, filepath.Join(src, "b"), "b")
}

func TestTmpfs(t *testing.T) {
	requireRoot(t)
	target := mountpoint(t)
	m := Mount{Type: "tmpfs", Source: "tmpfs", Options: []string{"nodev", "noexec", "size=1m", "mode=0710"}}
	if err := m.Mount(target); err != nil {
		t.Fatal(err)
	}
	var st unix.Statfs_t
	if err := unix.Statfs(target, &st); err != nil {
		t.Fatal(err)
	}
	if st.Type != unix.TMPFS_MAGIC || st.Flags&unix.ST_NODEV == 0 || st.Flags&unix.ST_NOEXEC == 0 {
		t.Errorf("statfs type %#x flags %#x, want tmpfs nodev noexec", st.Type, st.Flags)
	}
	if got := int64(st.Blocks) * st.Bsize; got != 1<<20 {
		t.Errorf("size %d, want 1 MiB", got)
	}
	fi, err := os.Stat(target)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o710 {
		t.Errorf("mode %v, want 0710", fi.Mode().Perm())
	}
}

func TestAllUndoesOnFailure(t *testing.T) {
	requireRoot(t)
	target := mountpoint(t)
	ms := []Mount{
		{Type: "tmpfs", Source: "tmpfs"},
		{Type: "bind", Source: filepath.Join(t.TempDir(), "missing")},
	}
	if err := All(ms, target); err == nil {
		t.Fatal("All succeeded with a missing bind source")
	}
	if ok, err := IsMountPoint(target); err != nil || ok {
		t.Fatalf("after a failed All, IsMountPoint = %v, %v; want the tmpfs undone", ok, err)
	}
}

func TestUnmountNotMounted(t *testing.T) {
	dir := t.TempDir()
	for _, p := range []string{dir, filepath.Join(dir, "missing")} {
		if err := Unmount(p); err != nil {
			t.Errorf("Unmount(%s): %v", p, err)
		}
		if err := UnmountAll(p); err != nil {
			t.Errorf("UnmountAll(%s): %v", p, err)
		}
	}
}

func TestIsMountPoint(t *testing.T) {
	dir := t.TempDir()
	link := filepath.Join(dir, "root-link")
	if err := os.Symlink("/", link); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path string
		want bool
	}{
		{"/", true},
		{"/proc", true},
		{dir, false},
		{link, true},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			got, err := IsMountPoint(tt.path)
			if err != nil || got != tt.want {
				t.Errorf("IsMountPoint = %v, %v; want %v", got, err, tt.want)
			}
			got, err = inMountinfo(tt.path)
			if err != nil || got != tt.want {
				t.Errorf("inMountinfo = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
	if _, err := IsMountPoint(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing path: %v, want not-exist", err)
	}
}

func TestLowerDirEscaping(t *testing.T) {
	dirs := []string{"/a/b", `/with:colon`, `/back\slash`, "/plain"}
	var escaped []string
	for _, d := range dirs {
		escaped = append(escaped, EscapeLowerDir(d))
	}
	if got := splitLowerDirs(strings.Join(escaped, ":")); !slices.Equal(got, dirs) {
		t.Errorf("split = %q, want %q", got, dirs)
	}
}

func TestUnescapeMountinfo(t *testing.T) {
	tests := map[string]string{
		`/a\040b`:  "/a b",
		`/tab\011`: "/tab\t",
		`/plain`:   "/plain",
		`/trail\0`: `/trail\0`,
	}
	for in, want := range tests {
		if got := unescapeMountinfo(in); got != want {
			t.Errorf("unescapeMountinfo(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestLowerdirPlusDetection checks how a kernel without "lowerdir+" is told
// from a bad lower: an unknown parameter must select the mount(2) fallback,
// a real error must not.
func TestLowerdirPlusDetection(t *testing.T) {
	requireOverlay(t)
	fsfd, err := unix.Fsopen("overlay", unix.FSOPEN_CLOEXEC)
	if err != nil {
		t.Skipf("needs fsopen: %v", err)
	}
	defer unix.Close(fsfd)
	dir := t.TempDir()
	err = unix.FsconfigSetString(fsfd, "lowerdir-unknown+", dir)
	if got := lowerError(fsfd, dir, err, true); !errors.Is(got, errNoLowerdirPlus) {
		t.Errorf("unknown parameter: %v, want the fallback", got)
	}
	notDir := filepath.Join(dir, "file")
	writeFile(t, notDir, "")
	if err = unix.FsconfigSetString(fsfd, "lowerdir+", notDir); err == nil {
		t.Fatal("a regular file was accepted as a lower directory")
	}
	if got := lowerError(fsfd, notDir, err, true); errors.Is(got, errNoLowerdirPlus) {
		t.Errorf("bad lower: %v, taken for a missing \"lowerdir+\"", got)
	}
}
