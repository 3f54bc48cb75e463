package cli

import (
	"os"
	"strings"
	"testing"
)

// TestE2EDevices: --device gives the container a host node at the path
// asked, with the cgroup permissions asked; --privileged gives every host
// device, as docker does.
func TestE2EDevices(t *testing.T) {
	s := newContainerStore(t)
	// /dev/full (1:7) as /dev/mine: readable, and writes fail with ENOSPC
	// only when the cgroup allows writing.
	out := s.ok(nil, "run", "--rm", "--device", "/dev/full:/dev/mine", "busybox",
		"sh", "-c", `stat -c '%t:%T %F' /dev/mine; head -c 3 /dev/mine | wc -c; echo x > /dev/mine || echo write failed`)
	if want := "1:7 character special file\n3\nwrite failed\n"; out != want {
		t.Errorf("--device /dev/full:/dev/mine: %q, want %q", out, want)
	}
	if r := s.run(nil, "run", "--rm", "--device", "/dev/full:rwx", "busybox", "true"); r.code != 125 || !strings.Contains(r.stderr, "device") {
		t.Errorf("bad --device mode: exit %d, stderr %q, want 125", r.code, r.stderr)
	}
	if r := s.run(nil, "run", "--rm", "--device", "/nonexistent", "busybox", "true"); r.code != 125 {
		t.Errorf("--device of a missing node: exit %d, stderr %q, want 125", r.code, r.stderr)
	}

	// A host device the default /dev lacks.
	host := ""
	for _, p := range []string{"/dev/loop-control", "/dev/kmsg", "/dev/fuse"} {
		if fi, err := os.Stat(p); err == nil && fi.Mode()&os.ModeDevice != 0 {
			host = p
			break
		}
	}
	if host == "" {
		t.Skip("needs a host device such as /dev/kmsg")
	}
	if r := s.run(nil, "run", "--rm", "busybox", "test", "-e", host); r.code == 0 {
		t.Errorf("%s exists in an unprivileged container", host)
	}
	if r := s.run(nil, "run", "--rm", "--privileged", "busybox", "test", "-c", host, "-o", "-b", host); r.code != 0 {
		t.Errorf("%s is not a device node in a privileged container: exit %d, stderr %q", host, r.code, r.stderr)
	}
	s.assertClean(t)
}

// TestE2EDevicePermissions: the cgroup permissions of --device hold.
// /dev/loop-control is not among the devices every container may use, and
// a write to it fails with EIO when allowed at all.
func TestE2EDevicePermissions(t *testing.T) {
	s := newContainerStore(t)
	if _, err := os.Stat("/dev/loop-control"); err != nil {
		t.Skip("needs /dev/loop-control")
	}
	write := []string{"busybox", "sh", "-c", "echo x > /dev/lc"}
	r := s.run(nil, append([]string{"run", "--rm", "--device", "/dev/loop-control:/dev/lc:r"}, write...)...)
	if r.code == 0 || !strings.Contains(r.stderr, "not permitted") {
		t.Errorf("writing a device allowed r only: exit %d, stderr %q, want operation not permitted", r.code, r.stderr)
	}
	r = s.run(nil, append([]string{"run", "--rm", "--device", "/dev/loop-control:/dev/lc:rw"}, write...)...)
	if strings.Contains(r.stderr, "not permitted") {
		t.Errorf("writing a device allowed rw: stderr %q, want the device's own error", r.stderr)
	}
	s.assertClean(t)
}
