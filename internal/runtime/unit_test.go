package runtime

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/strata-containers/strata/internal/errdefs"
)

func TestCgroupPath(t *testing.T) {
	for _, tc := range []struct {
		path, want string
		class      error
	}{
		{"", "/strata/c1", nil},
		{"/k8s/pod/c1", "/k8s/pod/c1", nil},
		{"mine/c1", "/strata/mine/c1", nil},
		{"/", "", errdefs.ErrInvalid},
		{"system.slice:docker:c1", "", errdefs.ErrUnavailable},
	} {
		got, err := cgroupPath(&specs.Spec{Linux: &specs.Linux{CgroupsPath: tc.path}}, "c1")
		if tc.class != nil {
			if !errors.Is(err, tc.class) {
				t.Errorf("cgroupPath(%q): %v, want class %v", tc.path, err, tc.class)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("cgroupPath(%q) = %q, %v; want %q", tc.path, got, err, tc.want)
		}
	}
}

func TestPlanNamespaces(t *testing.T) {
	ns := func(typ specs.LinuxNamespaceType, path string) specs.LinuxNamespace {
		return specs.LinuxNamespace{Type: typ, Path: path}
	}
	plan, err := planNamespaces([]specs.LinuxNamespace{
		ns(specs.MountNamespace, ""), ns(specs.PIDNamespace, ""), ns(specs.CgroupNamespace, ""),
		ns(specs.NetworkNamespace, "/run/netns/x"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if plan.clone != unix.CLONE_NEWNS|unix.CLONE_NEWPID || !plan.unshareCgroup || len(plan.join) != 1 {
		t.Errorf("plan %+v", plan)
	}
	for _, tc := range []struct {
		name  string
		nss   []specs.LinuxNamespace
		class error
	}{
		{"no mount namespace", []specs.LinuxNamespace{ns(specs.PIDNamespace, "")}, errdefs.ErrInvalid},
		{"twice", []specs.LinuxNamespace{ns(specs.MountNamespace, ""), ns(specs.MountNamespace, "")}, errdefs.ErrInvalid},
		{"unknown", []specs.LinuxNamespace{ns("bogus", "")}, errdefs.ErrInvalid},
		{"new user namespace and joined mount", []specs.LinuxNamespace{ns(specs.MountNamespace, "/proc/1/ns/mnt"), ns(specs.UserNamespace, "")}, errdefs.ErrUnavailable},
		{"time", []specs.LinuxNamespace{ns(specs.MountNamespace, ""), ns(specs.TimeNamespace, "")}, errdefs.ErrUnavailable},
	} {
		if _, err := planNamespaces(tc.nss); !errors.Is(err, tc.class) {
			t.Errorf("%s: %v, want class %v", tc.name, err, tc.class)
		}
	}
}

func TestCapMasks(t *testing.T) {
	s, err := capMasks(&specs.LinuxCapabilities{Effective: dockerCaps, Ambient: []string{"cap_net_raw"}})
	if err != nil {
		t.Fatal(err)
	}
	if s.effective != 0xa80425fb || s.ambient != 1<<unix.CAP_NET_RAW || s.bounding != 0 {
		t.Errorf("masks %+v", s)
	}
	if _, err := capMasks(&specs.LinuxCapabilities{Permitted: []string{"CAP_FLY"}}); !errdefs.IsInvalid(err) {
		t.Errorf("unknown capability: %v", err)
	}
}

func TestLookPath(t *testing.T) {
	dir := t.TempDir()
	for name, mode := range map[string]os.FileMode{"tool": 0o755, "data": 0o644} {
		if err := os.WriteFile(filepath.Join(dir, name), nil, mode); err != nil {
			t.Fatal(err)
		}
	}
	env := []string{"HOME=/", "PATH=/nonexistent:" + dir}
	for _, tc := range []struct {
		file, want string
		class      error
	}{
		{"tool", filepath.Join(dir, "tool"), nil},
		{filepath.Join(dir, "tool"), filepath.Join(dir, "tool"), nil},
		{"missing", "", ErrExecNotFound},
		{filepath.Join(dir, "missing"), "", ErrExecNotFound},
		{"data", "", ErrExecDenied},
	} {
		got, err := lookPath(tc.file, env)
		if tc.class != nil {
			if !errors.Is(err, tc.class) {
				t.Errorf("lookPath(%q): %v, want %v", tc.file, err, tc.class)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("lookPath(%q) = %q, %v", tc.file, got, err)
		}
	}
}

func TestWireErrorKeepsClass(t *testing.T) {
	for _, orig := range []error{
		errdefs.NotFound("exec: %q: %w in $PATH", "x", ErrExecNotFound),
		errdefs.Unavailable("no cgroup"),
		errors.New("plain"),
	} {
		got := toWire(orig).err()
		if got.Error() != orig.Error() {
			t.Errorf("message %q, want %q", got, orig)
		}
		for _, class := range []error{errdefs.ErrNotFound, errdefs.ErrUnavailable, ErrExecNotFound} {
			if errors.Is(got, class) != errors.Is(orig, class) {
				t.Errorf("%q: class %v lost or gained", orig, class)
			}
		}
	}
}

func TestProcStart(t *testing.T) {
	start, alive := ProcStart(os.Getpid())
	if !alive || start == 0 {
		t.Fatalf("ProcStart(self) = %d, %v", start, alive)
	}
	rec := record{State: specs.State{Pid: os.Getpid()}, InitStart: start + 1}
	if rec.initAlive() {
		t.Error("a pid with another start time counts as the container's init")
	}
}

// TestCheckID keeps validID to the grammar its doc names.
func TestCheckID(t *testing.T) {
	for id, ok := range map[string]bool{
		"a": true, "0abc_d.e-f": true, strings.Repeat("x", 128): true,
		"": false, "_a": false, ".a": false, "-a": false, "a/b": false, "a b": false,
		strings.Repeat("x", 129): false, "é": false,
	} {
		if err := checkID(id); (err == nil) != ok {
			t.Errorf("checkID(%q) = %v, want ok %v", id, err, ok)
		}
	}
}
