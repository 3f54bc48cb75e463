package runtime

import (
	"os"
	"path/filepath"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestUserNamespace maps the container's root to an unprivileged host
// range: devices then come from bind mounts, as mknod is refused.
func TestUserNamespace(t *testing.T) {
	if _, err := os.Stat("/proc/self/ns/user"); err != nil {
		t.Skip("needs user namespaces")
	}
	rt := newRuntime(t)
	bundle, spec := newBundle(t, "sh", "-c", "cat /proc/self/uid_map; stat -c '%t:%T' /dev/null; id -u")
	// The namespace's root is an unprivileged host user: it must be able to
	// reach the rootfs.
	for _, dir := range []string{filepath.Dir(bundle), bundle} {
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	spec.Linux.Namespaces = append(spec.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
	spec.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
	spec.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
	res := run(t, rt, bundle, spec)
	want := "         0     100000      65536\n1:3\n0\n"
	if res.code != 0 || res.stdout != want {
		t.Fatalf("exit %d, stdout %q, stderr %q; want %q", res.code, res.stdout, res.stderr, want)
	}
}
