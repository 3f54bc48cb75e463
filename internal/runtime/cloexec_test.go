package runtime

import (
	"slices"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// A seccomp profile that predates close_range (runtime-tools' default
// does), loaded without no_new_privs before the init marks its fds
// close-on-exec, must not stop the workload, nor leak the init's fds to it.
func TestExecWhenSeccompDeniesCloseRange(t *testing.T) {
	rt := newRuntime(t)
	bundle, spec := newBundle(t, "ls", "/proc/self/fd")
	u := func(v uint) *uint { return &v }
	spec.Process.NoNewPrivileges = false
	withCaps(spec, allCaps)
	spec.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{
		{Names: []string{"close_range"}, Action: specs.ActErrno, ErrnoRet: u(uint(unix.EPERM))},
	}}
	res := run(t, rt, bundle, spec)
	if res.code != 0 {
		t.Fatalf("exit %d, stderr %q", res.code, res.stderr)
	}
	// ls sees stdio and the directory it reads, nothing of the init.
	if got := lines(res.stdout); !slices.Equal(got, []string{"0", "1", "2", "3"}) {
		t.Errorf("fds in the workload: %q, want 0 1 2 3", got)
	}
}
