package rootfs

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// testRoot makes a rootfs whose symlinks try to lead out of it, and a
// directory outside that must stay untouched.
func testRoot(t *testing.T) (rootFd int, root, outside string) {
	root, outside = filepath.Join(t.TempDir(), "root"), t.TempDir()
	// outside exists on the host, and inside the root as well.
	if err := os.MkdirAll(filepath.Join(root, outside), 0o755); err != nil {
		t.Fatal(err)
	}
	for link, target := range map[string]string{
		"abs":      outside,
		"dangling": "/nonexistent",
		"up":       "../../../../../..",
		"selfroot": "/proc/self/root",
	} {
		if err := os.Symlink(target, filepath.Join(root, link)); err != nil {
			t.Fatal(err)
		}
	}
	fd, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	return fd, root, outside
}

func TestPathsStayInRoot(t *testing.T) {
	fd, root, outside := testRoot(t)
	for _, tc := range []struct {
		path, want string // want: where it must land, relative to root
	}{
		{"/abs/dir", filepath.Join(outside, "dir")},
		{"up/dir2", "dir2"},
		{"/a/../../../b/c", "b/c"},
	} {
		dfd, err := mkdirAllInRoot(fd, tc.path, 0o755)
		if err != nil {
			t.Fatalf("mkdirAllInRoot(%s): %v", tc.path, err)
		}
		unix.Close(dfd)
		if fi, err := os.Stat(filepath.Join(root, tc.want)); err != nil || !fi.IsDir() {
			t.Errorf("%s: no directory at %s inside the root (%v)", tc.path, tc.want, err)
		}
	}
	ffd, err := createFileInRoot(fd, "/abs/file")
	if err != nil {
		t.Fatal(err)
	}
	unix.Close(ffd)
	if entries, _ := os.ReadDir(outside); len(entries) != 0 {
		t.Errorf("something was created outside the root: %v", entries)
	}
	if _, err := mkdirAllInRoot(fd, "/selfroot/x", 0o755); err == nil {
		t.Error("a magic link was followed")
	}
	// Creating through a dangling link would create its target: refused.
	if _, err := mkdirAllInRoot(fd, "/dangling/x", 0o755); err == nil {
		t.Error("a dangling symlink was followed")
	}
}

func TestParseOptions(t *testing.T) {
	for _, tc := range []struct {
		m    specs.Mount
		want mountOptions
	}{
		{specs.Mount{Type: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
			mountOptions{flags: unix.MS_NOSUID | unix.MS_STRICTATIME, data: []string{"mode=755", "size=65536k"}}},
		{specs.Mount{Type: "bind", Options: []string{"rbind", "ro", "rprivate", "rw"}},
			mountOptions{flags: unix.MS_BIND | unix.MS_REC | unix.MS_RDONLY, propagation: unix.MS_PRIVATE | unix.MS_REC, bind: true}},
		{specs.Mount{Type: "none", Options: []string{"bind"}},
			mountOptions{flags: unix.MS_BIND, bind: true}},
	} {
		if got := parseOptions(tc.m); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("parseOptions(%v) = %+v, want %+v", tc.m.Options, got, tc.want)
		}
	}
}

func TestCleanRel(t *testing.T) {
	for in, want := range map[string]string{"/": ".", "/dev/../etc": "etc", "a/b/": "a/b", "../../x": "x"} {
		if got := cleanRel(in); got != want {
			t.Errorf("cleanRel(%q) = %q, want %q", in, got, want)
		}
	}
}
