package runtime

import (
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestEveryCapabilityRequested: a spec asking for every capability runs
// even where the runtime lacks some (CAP_SYS_RESOURCE here); the workload
// gets the ones the runtime has.
func TestEveryCapabilityRequested(t *testing.T) {
	bundle, spec := newBundle(t, "sh", "-c", "grep CapEff /proc/self/status")
	rt := newRuntime(t)
	var all []string
	for name := range capNumbers {
		all = append(all, name)
	}
	spec.Process.Capabilities = &specs.LinuxCapabilities{Bounding: all, Effective: all, Permitted: all, Inheritable: all, Ambient: all}
	res := run(t, rt, bundle, spec)
	if res.code != 0 || !strings.HasPrefix(res.stdout, "CapEff:") {
		t.Fatalf("exit %d, stdout %q, stderr %q", res.code, res.stdout, res.stderr)
	}
}

// TestSeccompDenyingGetcwd: a filter loaded before the capabilities drop
// (no no_new_privs) may deny getcwd, which the working-directory check
// uses; the check runs before the filter.
func TestSeccompDenyingGetcwd(t *testing.T) {
	bundle, spec := newBundle(t, "echo", "ran")
	rt := newRuntime(t)
	spec.Process.NoNewPrivileges = false
	spec.Linux.Seccomp = &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Syscalls:      []specs.LinuxSyscall{{Names: []string{"getcwd"}, Action: specs.ActErrno}},
	}
	if res := run(t, rt, bundle, spec); res.code != 0 || res.stdout != "ran\n" {
		t.Fatalf("exit %d, stdout %q, stderr %q", res.code, res.stdout, res.stderr)
	}
}
