package mount

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// TestIdmappedLowers mounts an overlay whose lower, owned by host root,
// appears owned by the range start, and whose upper (owned by the range
// start) takes a file created through the overlay by that unprivileged
// host user.
func TestIdmappedLowers(t *testing.T) {
	requireOverlay(t)
	const start = 100000
	m := IDMap{ContainerID: 0, HostID: start, Size: 65536}
	dir := t.TempDir()
	lower, upper, work := filepath.Join(dir, "lower"), filepath.Join(dir, "upper"), filepath.Join(dir, "work")
	for _, d := range []string{lower, upper, work} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []string{upper, work} {
		if err := os.Chown(d, start, start); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(t, filepath.Join(lower, "f"), "x")
	target := mountpoint(t)
	// The unprivileged writer must reach the mount point.
	for d := filepath.Dir(target); d != os.TempDir() && d != "/"; d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	ov := Mount{Type: "overlay", Source: "overlay", Options: []string{
		"lowerdir=" + lower, "upperdir=" + upper, "workdir=" + work, IdmapLowersOption(m, m),
	}}
	if err := ov.Mount(target); err != nil {
		if err2 := unix.Access("/proc/self/ns/user", unix.R_OK); err2 != nil {
			t.Skipf("needs user namespaces: %v", err)
		}
		t.Fatal(err)
	}
	var st unix.Stat_t
	if err := unix.Stat(filepath.Join(target, "f"), &st); err != nil {
		t.Fatal(err)
	}
	if st.Uid != start || st.Gid != start {
		t.Fatalf("lower file owned by %d:%d, want %d:%d", st.Uid, st.Gid, start, start)
	}
	cmd := exec.Command("/bin/sh", "-c", "echo y > "+target+"/new && echo z >> "+target+"/f")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: start, Gid: start}}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("writing as uid %d: %v: %s", start, err, out)
	}
	for _, name := range []string{"new", "f"} {
		if err := unix.Stat(filepath.Join(upper, name), &st); err != nil {
			t.Fatal(err)
		}
		if st.Uid != start {
			t.Errorf("upper %s owned by %d, want %d", name, st.Uid, start)
		}
	}
	if err := unix.Stat(filepath.Join(lower, "f"), &st); err != nil || st.Uid != 0 {
		t.Errorf("lower file changed owner: %d (%v)", st.Uid, err)
	}
}

// BenchmarkOverlayMount mounts and unmounts a 5-lower overlay, plain and
// with idmapped lowers (a user namespace made per mount, one clone per
// lower).
func BenchmarkOverlayMount(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("needs root: mounts")
	}
	dir := b.TempDir()
	var lowers []string
	for i := range 5 {
		l := filepath.Join(dir, "l"+string(rune('0'+i)))
		if err := os.Mkdir(l, 0o755); err != nil {
			b.Fatal(err)
		}
		lowers = append(lowers, l)
	}
	m := IDMap{ContainerID: 0, HostID: 100000, Size: 65536}
	for _, idmap := range []bool{false, true} {
		b.Run(map[bool]string{false: "plain", true: "idmapped"}[idmap], func(b *testing.B) {
			upper, work, target := b.TempDir(), b.TempDir(), b.TempDir()
			opts := []string{"lowerdir=" + strings.Join(lowers, ":"), "upperdir=" + upper, "workdir=" + work}
			if idmap {
				opts = append(opts, IdmapLowersOption(m, m))
			}
			ov := Mount{Type: "overlay", Source: "overlay", Options: opts}
			for b.Loop() {
				if err := ov.Mount(target); err != nil {
					b.Fatal(err)
				}
				if err := Unmount(target); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
