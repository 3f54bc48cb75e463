package cli

import (
	"archive/tar"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

const remapStart = 100000

// newRemapStore is a container store whose path an unprivileged host user
// (the remapped root) can traverse, as /run's is.
func newRemapStore(t *testing.T) *store {
	t.Helper()
	if _, err := os.Stat("/proc/self/ns/user"); err != nil {
		t.Skip("needs user namespaces (/proc/self/ns/user)")
	}
	s := newContainerStore(t)
	for d := s.root; d != os.TempDir() && d != "/"; d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o711); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// TestE2EUsernsRemap runs containers whose root is host uid 100000: the
// image's files are root's inside, files the container writes are the
// range start's on the host, and the process is no host root.
func TestE2EUsernsRemap(t *testing.T) {
	s := newRemapStore(t)
	remap := fmt.Sprintf("%d:65536", remapStart)
	out := s.ok(nil, "run", "--rm", "--userns-remap", remap, "busybox", "sh", "-c",
		"id -u; stat -c %u:%g /bin/busybox; cat /proc/self/uid_map | tr -s ' '")
	if want := fmt.Sprintf("0\n0:0\n 0 %d 65536\n", remapStart); out != want {
		t.Fatalf("run --rm: %q, want %q", out, want)
	}
	id := strings.TrimSpace(s.ok(nil, "run", "-d", "--userns-remap", remap, "busybox", "sleep", "1000"))
	if out := s.ok(nil, "exec", id, "sh", "-c", "id -u; echo hi > /created && stat -c %u /created"); out != "0\n0\n" {
		t.Errorf("exec: %q, want uid 0 and a file of 0", out)
	}
	assertHostOwner(t, s, id, "/created", remapStart)
	pid := strings.TrimSpace(s.inspectField(t, id, "{{.State.Pid}}"))
	status, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("Uid:\t%d\t%d", remapStart, remapStart); !strings.Contains(string(status), want) {
		t.Errorf("container process is not the range start on the host:\n%s", status)
	}
	// Host root's files are nobody's inside, and stay out of reach.
	if r := s.run(nil, "exec", id, "sh", "-c", "echo x > /proc/sys/kernel/hostname"); r.code == 0 {
		t.Errorf("remapped root wrote /proc/sys")
	}
	secret := filepath.Join(t.TempDir(), "secret")
	if err := os.Chmod(filepath.Dir(secret), 0o711); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(secret, []byte("host root only\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out := s.ok(nil, "run", "--rm", "-v", secret+":/secret", "busybox", "cat", "/secret"); out != "host root only\n" {
		t.Errorf("unmapped root cannot read a host root file: %q", out)
	}
	r := s.run(nil, "run", "--rm", "--userns-remap", remap, "-v", secret+":/secret", "busybox", "sh", "-c", "stat -c %u /secret; cat /secret")
	if r.code == 0 || r.stdout != "65534\n" || !strings.Contains(r.stderr, "Permission denied") {
		t.Errorf("remapped root and a host root file: exit %d, stdout %q, stderr %q; want nobody's, unreadable", r.code, r.stdout, r.stderr)
	}
	if mode := s.inspectField(t, id, "{{.HostConfig.UsernsMode}}"); strings.TrimSpace(mode) != "" {
		t.Errorf("UsernsMode %q, want empty", mode)
	}
	s.ok(nil, "restart", "-t", "0", id)
	if out := s.ok(nil, "exec", id, "stat", "-c", "%u", "/created"); out != "0\n" {
		t.Errorf("after restart: /created owned by %q, want 0", out)
	}
	// Commit and export hold the owners the container saw.
	s.ok(nil, "commit", id, "shifted:1")
	if out := s.ok(nil, "run", "--rm", "shifted:1", "stat", "-c", "%u:%g", "/created"); out != "0:0\n" {
		t.Errorf("committed file owned by %q, want 0:0", out)
	}
	tarPath := filepath.Join(t.TempDir(), "export.tar")
	s.ok(nil, "export", "-o", tarPath, id)
	assertTarOwners(t, tarPath, "created", "bin/busybox")
	s.ok(nil, "rm", "-f", id)
	s.assertClean(t, id)
}

// assertTarOwners checks that the named members of a tar are root's.
func assertTarOwners(t *testing.T, path string, names ...string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if err != nil {
			break
		}
		name := strings.TrimPrefix(hdr.Name, "./")
		if want[name] {
			delete(want, name)
			if hdr.Uid != 0 || hdr.Gid != 0 {
				t.Errorf("export: %s owned by %d:%d, want 0:0", name, hdr.Uid, hdr.Gid)
			}
		}
	}
	if len(want) > 0 {
		t.Errorf("export lacks %v", want)
	}
}

// TestE2EUsernsHost: --userns=host overrides a default remap.
func TestE2EUsernsHost(t *testing.T) {
	s := newRemapStore(t)
	remap := fmt.Sprintf("--userns-remap=%d:65536", remapStart)
	if out := s.ok(nil, remap, "run", "--rm", "busybox", "sh", "-c", "cat /proc/self/uid_map | tr -s ' '"); !strings.Contains(out, fmt.Sprint(remapStart)) {
		t.Errorf("global --userns-remap not applied: %q", out)
	}
	id := strings.TrimSpace(s.ok(nil, remap, "create", "--userns", "host", "busybox", "true"))
	if mode := strings.TrimSpace(s.inspectField(t, id, "{{.HostConfig.UsernsMode}}")); mode != "host" {
		t.Errorf("UsernsMode %q, want host", mode)
	}
	if out := s.ok(nil, "start", "-a", id); out != "" {
		t.Errorf("start: %q", out)
	}
	if r := s.run(nil, "run", "--rm", "--userns", "bogus", "busybox", "true"); r.code != 125 {
		t.Errorf("--userns bogus: exit %d, stderr %q; want 125", r.code, r.stderr)
	}
}

// assertHostOwner checks the owner, on the host, of path in container
// id's writable layer.
func assertHostOwner(t *testing.T, s *store, id, path string, uid uint32) {
	t.Helper()
	matches, _ := filepath.Glob(filepath.Join(s.root, "*", "rw", id, "diff", path))
	if len(matches) == 0 {
		matches, _ = filepath.Glob(filepath.Join(s.root, "*", "*", "rw", id, "diff", path))
	}
	if len(matches) != 1 {
		t.Fatalf("%s not found in the writable layer of %s", path, id)
	}
	var st unix.Stat_t
	if err := unix.Lstat(matches[0], &st); err != nil {
		t.Fatal(err)
	}
	if st.Uid != uid || st.Gid != uid {
		t.Errorf("%s owned by %d:%d on the host, want %d:%d", path, st.Uid, st.Gid, uid, uid)
	}
}

// TestE2EUsernsVolume: a new named volume is the remapped root's, and a
// copied-up one holds the image's files with the owners seen inside.
func TestE2EUsernsVolume(t *testing.T) {
	s := newRemapStore(t)
	out := s.ok(nil, "run", "--rm", "--network", "none", "--userns-remap", fmt.Sprintf("%d:65536", remapStart),
		"-v", "data:/data", "-v", "bin:/bin", "busybox", "sh", "-c",
		"touch /data/x /bin/y && stat -c %u /data/x /bin/busybox")
	if out != "0\n0\n" {
		t.Errorf("volume files owned by %q inside, want 0 and 0", out)
	}
	var st unix.Stat_t
	if err := unix.Stat(filepath.Join(s.root, "volumes", "data", "_data", "x"), &st); err != nil {
		t.Fatal(err)
	}
	if st.Uid != remapStart {
		t.Errorf("volume file owned by %d on the host, want %d", st.Uid, remapStart)
	}
	s.ok(nil, "volume", "rm", "data", "bin")
}
