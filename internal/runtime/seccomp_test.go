package runtime

import (
	"fmt"
	"os"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/strata-containers/strata/internal/errdefs"
	"github.com/strata-containers/strata/internal/runtime/seccomp"
)

// seccompProbeEnv makes the test binary, run as a container's workload,
// try syscalls busybox has no applet for and print each one's errno.
const seccompProbeEnv = "STRATA_TEST_SECCOMP_PROBE"

// perLinux32 is the personality busybox linux32 asks for.
const perLinux32 = 0x0008

// init runs the probe before the test framework starts, so that
// TestMain, which another probe already uses, stays as it is.
func init() {
	if os.Getenv(seccompProbeEnv) == "1" {
		os.Exit(seccompProbe())
	}
}

// seccompProbe tries syscalls that are harmless when they succeed: a
// reboot with a wrong magic number is refused after the capability check.
func seccompProbe() int {
	for _, c := range []struct {
		name string
		nr   uintptr
		args [3]uintptr
	}{
		{"keyctl", unix.SYS_KEYCTL, [3]uintptr{unix.KEYCTL_GET_KEYRING_ID, 0xfffffffd}},
		{"reboot", unix.SYS_REBOOT, [3]uintptr{1, 2, 3}},
		{"vsock", unix.SYS_SOCKET, [3]uintptr{unix.AF_VSOCK, unix.SOCK_STREAM}},
		{"personality-query", unix.SYS_PERSONALITY, [3]uintptr{0xffffffff}},
		{"personality-norandom", unix.SYS_PERSONALITY, [3]uintptr{0x0040000}},
	} {
		_, _, errno := unix.RawSyscall(c.nr, c.args[0], c.args[1], c.args[2])
		fmt.Printf("%s=%d\n", c.name, errno)
	}
	return 0
}

// allCaps gives the container what Docker's default profile guards with
// capabilities, so that a refusal comes from the filter, not a missing
// capability.
var allCaps = append([]string{"CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_PTRACE"}, dockerCaps...)

func withCaps(s *specs.Spec, caps []string) {
	s.Process.Capabilities = &specs.LinuxCapabilities{Bounding: caps, Effective: caps, Permitted: caps}
}

func TestSeccomp(t *testing.T) {
	rt := newRuntime(t)
	u := func(v uint) *uint { return &v }
	allowExcept := func(rules ...specs.LinuxSyscall) *specs.LinuxSeccomp {
		return &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: rules}
	}
	personality := func(v uint64) specs.LinuxSyscall {
		return specs.LinuxSyscall{Names: []string{"personality"}, Action: specs.ActErrno, ErrnoRet: u(uint(unix.EACCES)),
			Args: []specs.LinuxSeccompArg{{Index: 0, Value: v, Op: specs.OpEqualTo}}}
	}
	for _, tc := range []struct {
		name    string
		args    []string
		profile *specs.LinuxSeccomp
		edit    func(*specs.Spec)
		stdout  string // exact, when set
		has     []string
		code    int
	}{
		{name: "unconfined", args: []string{"grep", "Seccomp:", "/proc/self/status"}, stdout: "Seccomp:\t0\n"},
		{name: "default profile filters", args: []string{"grep", "Seccomp:", "/proc/self/status"},
			profile: seccomp.DefaultProfile(dockerCaps), stdout: "Seccomp:\t2\n"},
		{name: "default profile lets work through", profile: seccomp.DefaultProfile(dockerCaps),
			args:   []string{"sh", "-c", "echo hello; ls / | grep -c bin; sleep 0; cat /etc/passwd > /tmp/x && echo copied"},
			stdout: "hello\n2\ncopied\n"},
		{name: "default profile denies mount and unshare", profile: seccomp.DefaultProfile(dockerCaps),
			edit: func(s *specs.Spec) { withCaps(s, allCaps) },
			args: []string{"sh", "-c", "mount -t tmpfs none /tmp; echo mount=$?; unshare -U true; echo unshare=$?; unshare -m true; echo unshare-m=$?"},
			has:  []string{"mount=1", "permission denied", "unshare=1", "unshare-m=1", "Operation not permitted"}},
		{name: "CAP_SYS_ADMIN profile allows mount", profile: seccomp.DefaultProfile(allCaps),
			edit:   func(s *specs.Spec) { withCaps(s, allCaps) },
			args:   []string{"sh", "-c", "mount -t tmpfs none /tmp && echo mounted; unshare -m true && echo unshared"},
			stdout: "mounted\nunshared\n"},
		{name: "errno rule", profile: allowExcept(specs.LinuxSyscall{Names: []string{"mkdir", "mkdirat"},
			Action: specs.ActErrno, ErrnoRet: u(uint(unix.EACCES))}),
			args: []string{"mkdir", "/tmp/d"}, has: []string{"Permission denied"}, code: 1},
		{name: "kill rule", profile: allowExcept(specs.LinuxSyscall{Names: []string{"mkdir", "mkdirat"}, Action: specs.ActKill}),
			args: []string{"mkdir", "/tmp/d"}, code: 128 + int(unix.SIGSYS)},
		{name: "arg rule matches", profile: allowExcept(personality(perLinux32)),
			args: []string{"linux32", "true"}, has: []string{"Permission denied"}, code: 1},
		{name: "arg rule does not match", profile: allowExcept(personality(perLinux32 + 1)),
			args: []string{"linux32", "true"}},
		{name: "no_new_privs loads last", profile: allowExcept(specs.LinuxSyscall{Names: []string{"mkdir", "mkdirat"},
			Action: specs.ActErrno, ErrnoRet: u(uint(unix.EACCES))}),
			edit: func(s *specs.Spec) {
				s.Process.NoNewPrivileges = true
				s.Process.User = specs.User{UID: 1000, GID: 1000}
			},
			args: []string{"sh", "-c", "grep -E 'Seccomp:|NoNewPrivs' /proc/self/status; id -u; mkdir /tmp/d"},
			has:  []string{"NoNewPrivs:\t1", "Seccomp:\t2", "1000", "Permission denied"}, code: 1},
		{name: "user without no_new_privs", profile: seccomp.DefaultProfile(nil),
			edit:   func(s *specs.Spec) { s.Process.User = specs.User{UID: 1000, GID: 1000} },
			args:   []string{"sh", "-c", "grep -E 'Seccomp:|NoNewPrivs' /proc/self/status; id -u"},
			stdout: "NoNewPrivs:\t0\nSeccomp:\t2\n1000\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bundle, spec := newBundle(t, tc.args...)
			spec.Linux.Seccomp = tc.profile
			if tc.edit != nil {
				tc.edit(spec)
			}
			res := run(t, rt, bundle, spec)
			if res.code != tc.code {
				t.Errorf("exit code %d, want %d; stdout %q, stderr %q", res.code, tc.code, res.stdout, res.stderr)
			}
			if tc.stdout != "" && res.stdout != tc.stdout {
				t.Errorf("stdout %q, want %q (stderr %q)", res.stdout, tc.stdout, res.stderr)
			}
			for _, want := range tc.has {
				if !strings.Contains(res.stdout+res.stderr, want) {
					t.Errorf("output lacks %q: stdout %q, stderr %q", want, res.stdout, res.stderr)
				}
			}
		})
	}
}

// TestSeccompDefaultProfileSyscalls runs the probe under Docker's default
// profile in a container that holds the capabilities the kernel checks,
// so that every refusal it sees is the filter's.
func TestSeccompDefaultProfileSyscalls(t *testing.T) {
	bundle, spec := newBundle(t, "/proc/self/exe")
	spec.Process.Env = append(spec.Process.Env, seccompProbeEnv+"=1")
	withCaps(spec, allCaps)
	spec.Linux.Seccomp = seccomp.DefaultProfile(dockerCaps)
	host, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	spec.Mounts = append(spec.Mounts, hostLibraries(t, host)...)
	res := run(t, newRuntime(t), bundle, spec)
	if res.code != 0 {
		t.Fatalf("probe exited %d: %s%s", res.code, res.stdout, res.stderr)
	}
	eperm := fmt.Sprint(int(unix.EPERM))
	for _, want := range []string{"keyctl=" + eperm, "reboot=" + eperm, "vsock=" + eperm,
		"personality-query=0", "personality-norandom=" + eperm} {
		if !strings.Contains(res.stdout, want+"\n") {
			t.Errorf("probe output lacks %q:\n%s", want, res.stdout)
		}
	}
}

func TestSeccompBadProfileFailsCreate(t *testing.T) {
	bundle, spec := newBundle(t, "true")
	spec.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: "SCMP_ACT_SOMETIMES"}
	writeSpec(t, bundle, spec)
	rt := newRuntime(t)
	id := newID(t)
	forceDelete(t, rt, id)
	err := rt.Create(t.Context(), id, bundle, CreateOpts{})
	if !errdefs.IsInvalid(err) {
		t.Fatalf("create with a bad profile: %v, want an invalid-argument error", err)
	}
}
