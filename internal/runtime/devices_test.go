package runtime

import (
	"os"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestSpecDevices: linux.devices are created with the spec's type,
// numbers, mode and owner even under a deny-all device cgroup, which
// still governs their use: /dev/lc (loop-control's numbers) cannot be
// opened for writing.
func TestSpecDevices(t *testing.T) {
	bundle, spec := newBundle(t, "sh", "-c",
		`stat -c '%F %t:%T %a %u:%g' /dev/lc /dev/sub/fifo; echo x > /dev/lc`)
	rt := newRuntime(t)
	mode, fifoMode := os.FileMode(0o640), os.FileMode(0o600)
	uid, gid := uint32(1), uint32(2)
	spec.Linux.Devices = []specs.LinuxDevice{
		{Path: "/dev/lc", Type: "c", Major: 10, Minor: 237, FileMode: &mode, UID: &uid, GID: &gid},
		{Path: "/dev/sub/fifo", Type: "p", FileMode: &fifoMode},
	}
	spec.Linux.Resources = &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}}}
	res := run(t, rt, bundle, spec)
	want := "character special file a:ed 640 1:2\nfifo 0:0 600 0:0\n"
	if res.stdout != want {
		t.Errorf("stdout %q, want %q (stderr %q)", res.stdout, want, res.stderr)
	}
	if res.code == 0 || !strings.Contains(res.stderr, "not permitted") {
		t.Errorf("writing a denied device: exit %d, stderr %q; want operation not permitted", res.code, res.stderr)
	}
}
