package cgroups

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/strata-containers/strata/internal/errdefs"
)

func TestParseMountinfo(t *testing.T) {
	hybrid := `31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
50 23 0:32 /docker /mnt/bound rw,relatime - cgroup cgroup rw,memory
51 23 0:32 / /mnt/again rw,relatime - cgroup cgroup rw,memory
`
	pure := `25 23 0:22 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate
26 23 0:22 / /mnt/with\040space rw - cgroup2 cgroup2 rw
`
	tests := []struct {
		name string
		in   string
		want []Hierarchy
	}{
		{"hybrid", hybrid, []Hierarchy{
			{Mountpoint: "/sys/fs/cgroup/cpu,cpuacct", Version: 1, Controllers: []string{"cpu", "cpuacct"}},
			{Mountpoint: "/sys/fs/cgroup/memory", Version: 1, Controllers: []string{"memory"}},
			{Mountpoint: "/sys/fs/cgroup/systemd", Version: 1, Controllers: []string{"name=systemd"}},
			{Mountpoint: "/sys/fs/cgroup/unified", Version: 2},
		}},
		{"pure v2", pure, []Hierarchy{{Mountpoint: "/sys/fs/cgroup", Version: 2}}},
		{"none", "22 1 0:5 / /proc rw - proc proc rw\n", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := parseMountinfo([]byte(tc.in))
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
	if got := unescapeMountinfo(`/mnt/with\040space`); got != "/mnt/with space" {
		t.Fatalf("unescape: %q", got)
	}
}

func TestCheckPath(t *testing.T) {
	for _, tc := range []struct {
		path  string
		class error
	}{
		{"/strata/abc", nil},
		{"strata/abc", errdefs.ErrInvalid},
		{"/strata/../x", errdefs.ErrInvalid},
		{"/", errdefs.ErrInvalid},
		{"system.slice:strata:abc", errdefs.ErrUnavailable},
	} {
		err := CheckPath(tc.path)
		if (tc.class == nil) != (err == nil) || (tc.class != nil && !errors.Is(err, tc.class)) {
			t.Errorf("CheckPath(%q) = %v, want class %v", tc.path, err, tc.class)
		}
	}
}

func TestV1Mounts(t *testing.T) {
	m := newV1([]Hierarchy{
		{Mountpoint: "/sys/fs/cgroup/cpu,cpuacct", Version: 1, Controllers: []string{"cpu", "cpuacct"}},
		{Mountpoint: "/sys/fs/cgroup/systemd", Version: 1, Controllers: []string{"name=systemd"}},
	}, "/sys/fs/cgroup/unified", "/strata/c1")
	want := []Mount{
		{Dir: "cpu,cpuacct", Type: "cgroup", Data: "cpu,cpuacct", HostPath: "/sys/fs/cgroup/cpu,cpuacct/strata/c1", Links: []string{"cpu", "cpuacct"}},
		{Dir: "systemd", Type: "cgroup", Data: "name=systemd", HostPath: "/sys/fs/cgroup/systemd/strata/c1"},
		{Dir: "unified", Type: "cgroup2", HostPath: "/sys/fs/cgroup/unified/strata/c1"},
	}
	if got := m.Mounts(); !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
}

func TestDeviceRule(t *testing.T) {
	i := func(v int64) *int64 { return &v }
	for _, tc := range []struct {
		rule specs.LinuxDeviceCgroup
		want string
	}{
		{specs.LinuxDeviceCgroup{Allow: false, Access: "rwm"}, "a *:* rwm"},
		{specs.LinuxDeviceCgroup{Allow: true, Type: "c", Major: i(1), Minor: i(3), Access: "rwm"}, "c 1:3 rwm"},
		{specs.LinuxDeviceCgroup{Allow: true, Type: "c", Major: i(136), Access: "rw"}, "c 136:* rw"},
	} {
		if got := deviceRule(tc.rule); got != tc.want {
			t.Errorf("deviceRule(%+v) = %q, want %q", tc.rule, got, tc.want)
		}
	}
}

// testPath is a cgroup path no other test or container uses.
func testPath(t *testing.T) string {
	b := make([]byte, 6)
	rand.Read(b)
	return "/strata-test/" + strings.ReplaceAll(t.Name(), "/", "-") + "-" + hex.EncodeToString(b)
}

// startSleeper starts a real process for a test to put in a cgroup; it is
// killed and reaped when the test ends.
func startSleeper(t *testing.T) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("sleep", "1000")
	if err := cmd.Start(); err != nil {
		t.Skipf("needs sleep(1) (coreutils): %v", err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	return cmd
}

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: creates cgroups")
	}
}

// inCgroup reports whether /proc/<pid>/cgroup lists path for a hierarchy
// whose controllers field contains ctrl ("" for v2).
func inCgroup(t *testing.T, pid int, ctrl, path string) bool {
	t.Helper()
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) == 3 && parts[2] == path {
			if (ctrl == "" && parts[1] == "") || (ctrl != "" && strings.Contains(","+parts[1]+",", ","+ctrl+",")) {
				return true
			}
		}
	}
	return false
}

func cleanupManager(t *testing.T, m Manager) {
	t.Cleanup(func() {
		if err := m.Destroy(context.Background()); err != nil {
			t.Errorf("cleanup: %v", err)
		}
		// The shared parent of test cgroups goes when the last test is done.
		for _, h := range mustHierarchies(t) {
			unix.Rmdir(filepath.Join(h.Mountpoint, "strata-test"))
		}
	})
}

func mustHierarchies(t *testing.T) []Hierarchy {
	hs, err := Hierarchies()
	if err != nil {
		t.Fatal(err)
	}
	return hs
}
