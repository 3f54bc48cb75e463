package seccomp

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/strata-containers/strata/internal/errdefs"
)

// rulesFor returns the rules of p that name syscall.
func rulesFor(p *specs.LinuxSeccomp, syscall string) []specs.LinuxSyscall {
	var out []specs.LinuxSyscall
	for _, r := range p.Syscalls {
		if slices.Contains(r.Names, syscall) {
			out = append(out, r)
		}
	}
	return out
}

func TestDefaultProfileCapabilities(t *testing.T) {
	docker := []string{"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_SETUID", "CAP_SYS_CHROOT", "CAP_KILL"}
	plain := DefaultProfile(docker)
	if plain.DefaultAction != specs.ActErrno || plain.DefaultErrnoRet == nil || *plain.DefaultErrnoRet != 1 {
		t.Errorf("default action %s/%v, want EPERM", plain.DefaultAction, plain.DefaultErrnoRet)
	}
	if want := []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32}; !slices.Equal(plain.Architectures, want) {
		t.Errorf("architectures %v, want %v", plain.Architectures, want)
	}
	admin := DefaultProfile(append(docker, "CAP_SYS_ADMIN"))
	for _, tc := range []struct {
		name         string
		plain, admin int // number of rules naming the syscall
	}{
		{"mount", 0, 1}, {"unshare", 0, 1}, {"reboot", 0, 0}, {"chroot", 1, 1},
		{"clone", 1, 1}, {"clone3", 1, 1}, {"personality", 5, 5}, {"keyctl", 0, 0},
	} {
		if n := len(rulesFor(plain, tc.name)); n != tc.plain {
			t.Errorf("%s: %d rules with Docker's capabilities, want %d", tc.name, n, tc.plain)
		}
		if n := len(rulesFor(admin, tc.name)); n != tc.admin {
			t.Errorf("%s: %d rules with CAP_SYS_ADMIN, want %d", tc.name, n, tc.admin)
		}
	}
	if r := rulesFor(plain, "clone")[0]; len(r.Args) != 1 || r.Args[0].Op != specs.OpMaskedEqual || r.Args[0].Value != 0x7e020000 {
		t.Errorf("clone without CAP_SYS_ADMIN: %+v, want the namespace flag mask", r)
	}
	if r := rulesFor(admin, "clone")[0]; len(r.Args) != 0 {
		t.Errorf("clone with CAP_SYS_ADMIN: %+v, want no condition", r)
	}
	if r := rulesFor(plain, "clone3")[0]; r.Action != specs.ActErrno || *r.ErrnoRet != uint(unix.ENOSYS) {
		t.Errorf("clone3 without CAP_SYS_ADMIN: %+v, want ENOSYS", r)
	}
	// Short capability names are what Docker's --cap-add takes.
	if n := len(rulesFor(DefaultProfile([]string{"sys_boot"}), "reboot")); n != 1 {
		t.Errorf("reboot with sys_boot: %d rules, want 1", n)
	}
}

// TestDefaultProfileInKernel loads the default profile on a thread and
// checks what the kernel answers. Only syscalls that are harmless when
// allowed are tried, and the thread exits afterwards.
func TestDefaultProfileInKernel(t *testing.T) {
	onFilteredThread(t, DefaultProfile(nil), func() {
		for _, tc := range []struct {
			name string
			nr   uintptr
			args []uintptr
			want unix.Errno
		}{
			{"getpid", unix.SYS_GETPID, nil, 0},
			{"personality query", unix.SYS_PERSONALITY, []uintptr{0xffffffff}, 0},
			{"personality no-randomize", unix.SYS_PERSONALITY, []uintptr{0x0040000} /* ADDR_NO_RANDOMIZE */, unix.EPERM},
			{"socket AF_VSOCK", unix.SYS_SOCKET, []uintptr{unix.AF_VSOCK, unix.SOCK_STREAM}, unix.EPERM},
			{"keyctl", unix.SYS_KEYCTL, []uintptr{unix.KEYCTL_GET_KEYRING_ID, 0xffffffff}, unix.EPERM},
			{"reboot", unix.SYS_REBOOT, []uintptr{0, 0, 0}, unix.EPERM},
			{"mount", unix.SYS_MOUNT, []uintptr{0, 0, 0, 0, 0}, unix.EPERM},
			{"clone3", unix.SYS_CLONE3, []uintptr{0, 0}, unix.ENOSYS},
			{"clone with CLONE_NEWUSER", unix.SYS_CLONE, []uintptr{unix.CLONE_NEWUSER | unix.CLONE_THREAD}, unix.EPERM},
		} {
			if got := call(tc.nr, tc.args...); got != tc.want {
				t.Errorf("%s: errno %v, want %v", tc.name, got, tc.want)
			}
		}
	})
}

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name, profile string
		caps          []string
		names         []string // of the resolved rules, in order
		invalid       bool
	}{
		{name: "plain OCI", profile: `{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_ERRNO"}]}`,
			names: []string{"mkdir"}},
		{name: "old single name", profile: `{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"name":"mkdir","action":"SCMP_ACT_ERRNO"}]}`,
			names: []string{"mkdir"}},
		{name: "include by cap", caps: []string{"CAP_NET_ADMIN"},
			profile: `{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["a"],"action":"SCMP_ACT_ERRNO","includes":{"caps":["CAP_NET_ADMIN"]}},{"names":["b"],"action":"SCMP_ACT_ERRNO","includes":{"caps":["CAP_NET_ADMIN","CAP_SYS_ADMIN"]}}]}`,
			names:   []string{"a"}},
		{name: "exclude by cap", caps: []string{"NET_ADMIN"},
			profile: `{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["a"],"action":"SCMP_ACT_ERRNO","excludes":{"caps":["CAP_NET_ADMIN"]}},{"names":["b"],"action":"SCMP_ACT_ERRNO"}]}`,
			names:   []string{"b"}},
		{name: "arches and kernel",
			profile: `{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["a"],"action":"SCMP_ACT_ERRNO","includes":{"arches":["s390x"]}},{"names":["b"],"action":"SCMP_ACT_ERRNO","includes":{"minKernel":"99.1"}},{"names":["c"],"action":"SCMP_ACT_ERRNO","includes":{"minKernel":"3.10"}}]}`,
			names:   []string{"c"}},
		{name: "name and names", invalid: true,
			profile: `{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"name":"a","names":["b"],"action":"SCMP_ACT_ERRNO"}]}`},
		{name: "no default action", invalid: true, profile: `{"syscalls":[]}`},
		{name: "architectures and archMap", invalid: true,
			profile: `{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86_64"],"archMap":[{"architecture":"SCMP_ARCH_X86_64"}]}`},
		{name: "not JSON", invalid: true, profile: `{"defaultAction":`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Parse([]byte(tc.profile), tc.caps)
			if tc.invalid {
				if !errdefs.IsInvalid(err) {
					t.Fatalf("Parse: %v, want an invalid-argument error", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, r := range p.Syscalls {
				names = append(names, r.Names...)
			}
			if !slices.Equal(names, tc.names) {
				t.Errorf("rules for %v, want %v", names, tc.names)
			}
		})
	}
}

func TestForOption(t *testing.T) {
	ctx := context.Background()
	file := filepath.Join(t.TempDir(), "profile.json")
	if err := os.WriteFile(file, []byte(`{"defaultAction":"SCMP_ACT_LOG"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		value string
		want  specs.LinuxSeccompAction // "" for no profile
	}{
		{"unconfined", ""},
		{"", specs.ActErrno},
		{"builtin", specs.ActErrno},
		{`{"defaultAction":"SCMP_ACT_KILL"}`, specs.ActKill},
		{file, specs.ActLog},
	} {
		p, err := ForOption(ctx, tc.value, nil)
		if err != nil {
			t.Errorf("%q: %v", tc.value, err)
			continue
		}
		if got := specs.LinuxSeccompAction(""); p != nil {
			got = p.DefaultAction
			if got != tc.want {
				t.Errorf("%q: default action %q, want %q", tc.value, got, tc.want)
			}
		} else if tc.want != "" {
			t.Errorf("%q: no profile, want one", tc.value)
		}
	}
	if _, err := ForOption(ctx, filepath.Join(t.TempDir(), "missing.json"), nil); !errdefs.IsNotFound(err) {
		t.Errorf("missing file: %v, want not found", err)
	}
}

// TestDefaultProfileSize keeps the program compact: runs of allowed
// syscalls share one range test instead of one test each.
func TestDefaultProfileSize(t *testing.T) {
	for _, caps := range [][]string{nil, {"CAP_SYS_ADMIN", "CAP_SYS_PTRACE", "CAP_SYS_BOOT"}} {
		f, err := Compile(DefaultProfile(caps))
		if err != nil {
			t.Fatal(err)
		}
		if len(f.Program) > 200 {
			t.Errorf("default profile with %v: %d instructions, want at most 200", caps, len(f.Program))
		}
	}
}
