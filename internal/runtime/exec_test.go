package runtime

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/strata-containers/strata/internal/errdefs"
)

// startSleeper starts a container whose workload sleeps, with a file that
// exists only in its rootfs, and returns its id and spec.
func startSleeper(t testing.TB, rt *Runtime, edit func(*specs.Spec)) (string, *specs.Spec) {
	t.Helper()
	bundle, spec := newBundle(t, "sleep", "1000")
	if err := os.WriteFile(filepath.Join(bundle, "rootfs", "only-in-container"), []byte("inside\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A container's root mapped to an unprivileged user must reach the rootfs.
	for _, dir := range []string{filepath.Dir(bundle), bundle} {
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if edit != nil {
		edit(spec)
	}
	writeSpec(t, bundle, spec)
	id := newID(t)
	forceDelete(t, rt, id)
	ctx := context.Background()
	if err := rt.Create(ctx, id, bundle, CreateOpts{}); err != nil {
		t.Fatalf("create: %v", err)
	}
	if err := rt.Start(ctx, id); err != nil {
		t.Fatalf("start: %v", err)
	}
	return id, spec
}

// execIn runs proc in container id and waits for it.
func execIn(t *testing.T, rt *Runtime, id string, proc *specs.Process) (result, error) {
	t.Helper()
	ctx := context.Background()
	stdout, stderr := newOutput(t), newOutput(t)
	p, err := rt.Exec(ctx, id, proc, ExecOpts{Stdout: stdout.w, Stderr: stderr.w})
	if err != nil {
		return result{}, err
	}
	defer p.Close()
	stdout.collect()
	stderr.collect()
	code, err := p.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return result{stdout: stdout.String(), stderr: stderr.String(), code: code}, nil
}

func shell(spec *specs.Spec, script string) *specs.Process {
	proc := *spec.Process
	proc.Args = []string{"sh", "-c", script}
	return &proc
}

func TestExec(t *testing.T) {
	rt := newRuntime(t)
	id, spec := startSleeper(t, rt, nil)
	for _, tc := range []struct {
		name, script, stdout string
		edit                 func(*specs.Process)
		code                 int
	}{
		{name: "hostname", script: "hostname", stdout: "strata-test\n"},
		{name: "mount namespace", script: "cat /only-in-container", stdout: "inside\n"},
		{name: "pid namespace", script: "cat /proc/1/cmdline | tr '\\0' ' '; echo", stdout: "sleep 1000 \n"},
		{name: "network namespace", script: "ls /sys/class/net", stdout: "lo\n"},
		{name: "own cgroup is the root", script: "cut -d: -f3 /proc/self/cgroup | sort -u", stdout: "/\n"},
		{name: "user", script: "id", stdout: "uid=1000 gid=1000 groups=10(wheel)\n", edit: func(p *specs.Process) {
			p.User = specs.User{UID: 1000, GID: 1000, AdditionalGids: []uint32{10}}
		}},
		{name: "env and cwd", script: "echo $FOO; pwd", stdout: "bar\n/tmp\n", edit: func(p *specs.Process) {
			p.Env = append(p.Env, "FOO=bar")
			p.Cwd = "/tmp"
		}},
		{name: "capabilities", script: "grep CapEff /proc/self/status", stdout: "CapEff:\t" + dockerCapEff + "\n"},
		{name: "no_new_privs", script: "grep NoNewPrivs /proc/self/status", stdout: "NoNewPrivs:\t1\n",
			edit: func(p *specs.Process) { p.NoNewPrivileges = true }},
		{name: "rlimit", script: "ulimit -n", stdout: "512\n", edit: func(p *specs.Process) {
			p.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 512, Hard: 512}}
		}},
		// CVE-2024-21626 class: no host fd and no host cwd.
		{name: "only stdio fds", script: "ls /proc/self/fd", stdout: "0\n1\n2\n3\n"},
		{name: "cwd inside", script: "readlink /proc/self/cwd", stdout: "/\n"},
		{name: "exit code", script: "exit 3", code: 3},
		{name: "killed by a signal", script: "kill -9 $$", code: 137},
	} {
		t.Run(tc.name, func(t *testing.T) {
			proc := shell(spec, tc.script)
			if tc.edit != nil {
				tc.edit(proc)
			}
			res, err := execIn(t, rt, id, proc)
			if err != nil {
				t.Fatal(err)
			}
			if res.code != tc.code || res.stdout != tc.stdout {
				t.Fatalf("exit %d, stdout %q, stderr %q; want exit %d, stdout %q", res.code, res.stdout, res.stderr, tc.code, tc.stdout)
			}
		})
	}
}

func TestExecErrors(t *testing.T) {
	rt := newRuntime(t)
	id, spec := startSleeper(t, rt, nil)
	proc := *spec.Process
	proc.Args = []string{"no-such-command"}
	_, err := execIn(t, rt, id, &proc)
	if !errors.Is(err, ErrExecNotFound) {
		t.Errorf("missing executable: %v, want ErrExecNotFound", err)
	}
	proc.Args = []string{"/etc/passwd"}
	if _, err := execIn(t, rt, id, &proc); !errors.Is(err, ErrExecDenied) {
		t.Errorf("not executable: %v, want ErrExecDenied", err)
	}
	proc.Args = []string{"true"}
	proc.Cwd = "/no/such/dir"
	if _, err := execIn(t, rt, id, &proc); err == nil || !strings.Contains(err.Error(), "/no/such/dir") {
		t.Errorf("missing cwd: %v", err)
	}
	if err := rt.Kill(context.Background(), id, unix.SIGKILL, false); err != nil {
		t.Fatal(err)
	}
	waitStopped(t, rt, id)
	proc.Cwd = "/"
	if _, err := execIn(t, rt, id, &proc); !errdefs.IsConflict(err) {
		t.Errorf("exec into a stopped container: %v, want a conflict", err)
	}
}

func waitStopped(t *testing.T, rt *Runtime, id string) {
	t.Helper()
	if _, err := rt.Wait(context.Background(), id); err != nil {
		t.Fatal(err)
	}
}

// TestExecDiesWithContainer: an exec'd process is in the container's pid
// namespace and cgroup, so it does not outlive the container.
func TestExecDiesWithContainer(t *testing.T) {
	rt := newRuntime(t)
	id, spec := startSleeper(t, rt, nil)
	proc := *spec.Process
	proc.Args = []string{"sleep", "1001"}
	ctx := context.Background()
	p, err := rt.Exec(ctx, id, &proc, ExecOpts{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Signal(unix.SIGKILL); p.Wait(ctx); p.Close() })
	if err := rt.Kill(ctx, id, unix.SIGKILL, false); err != nil {
		t.Fatal(err)
	}
	if code, err := p.Wait(ctx); err != nil || code != 137 {
		t.Fatalf("exec'd process: exit %d, %v; want 137 (killed with the container)", code, err)
	}
	if err := unix.Kill(p.Pid, 0); !errors.Is(err, unix.ESRCH) {
		t.Fatalf("exec'd process %d still exists: %v", p.Pid, err)
	}
}

// TestExecHelperSealed is the CVE-2019-5736 class: the process outside the
// container that stays the exec'd process's parent runs from a sealed
// copy, which cannot be opened for writing through /proc/<pid>/exe, and
// the exec'd process itself runs the container's own executable.
func TestExecHelperSealed(t *testing.T) {
	rt := newRuntime(t)
	id, spec := startSleeper(t, rt, nil)
	proc := *spec.Process
	proc.Args = []string{"sleep", "1002"}
	ctx := context.Background()
	p, err := rt.Exec(ctx, id, &proc, ExecOpts{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Signal(unix.SIGKILL); p.Wait(ctx); p.Close() })
	helper := parentPid(t, p.Pid)
	exe := "/proc/" + strconv.Itoa(helper) + "/exe"
	if f, err := os.Open(exe); err != nil || checkSealed(f) != nil {
		target, _ := os.Readlink(exe)
		t.Errorf("helper runs from %q, want a sealed memfd or a read-only overlay (%v)", target, err)
	} else {
		f.Close()
	}
	if f, err := os.OpenFile(exe, os.O_WRONLY, 0); err == nil {
		f.Close()
		t.Fatalf("the helper's executable %s opened for writing", exe)
	}
	own, _ := os.Readlink("/proc/self/exe")
	if target, _ := os.Readlink("/proc/" + strconv.Itoa(p.Pid) + "/exe"); target == own || !strings.Contains(target, "busybox") {
		t.Errorf("exec'd process runs %q, want the container's busybox", target)
	}
}

func parentPid(t *testing.T, pid int) int {
	t.Helper()
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		t.Fatal(err)
	}
	fields := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+1:]))
	ppid, err := strconv.Atoi(fields[1])
	if err != nil {
		t.Fatal(err)
	}
	return ppid
}

// TestExecUserNamespace: the process joins the container's user namespace
// first, so it is the namespace's root, mapped to the unprivileged range.
func TestExecUserNamespace(t *testing.T) {
	if _, err := os.Stat("/proc/self/ns/user"); err != nil {
		t.Skip("needs user namespaces")
	}
	rt := newRuntime(t)
	id, spec := startSleeper(t, rt, func(s *specs.Spec) {
		s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
		s.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
		s.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
	})
	res, err := execIn(t, rt, id, shell(spec, "id -u; cat /proc/self/uid_map; touch /tmp/x && stat -c %u /tmp/x"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "0\n         0     100000      65536\n0\n"; res.code != 0 || res.stdout != want {
		t.Fatalf("exit %d, stdout %q, stderr %q; want %q", res.code, res.stdout, res.stderr, want)
	}
}

// TestExecSeccomp: the process is under the container's seccomp filter.
func TestExecSeccomp(t *testing.T) {
	rt := newRuntime(t)
	eperm := uint(unix.EPERM)
	id, spec := startSleeper(t, rt, func(s *specs.Spec) {
		s.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{
			{Names: []string{"mkdir", "mkdirat"}, Action: specs.ActErrno, ErrnoRet: &eperm},
		}}
	})
	res, err := execIn(t, rt, id, shell(spec, "grep Seccomp: /proc/self/status; mkdir /tmp/denied"))
	if err != nil {
		t.Fatal(err)
	}
	if res.code != 1 || res.stdout != "Seccomp:\t2\n" || !strings.Contains(res.stderr, "Operation not permitted") {
		t.Fatalf("exit %d, stdout %q, stderr %q; want mkdir denied by the container's filter", res.code, res.stdout, res.stderr)
	}
}

// BenchmarkExecTrue measures Exec of `true` into a running container, to
// its exit: sealed copy, helper, namespaces, cgroup, execve, wait.
func BenchmarkExecTrue(b *testing.B) {
	ctx := context.Background()
	rt := newRuntime(b)
	id, spec := startSleeper(b, rt, nil)
	proc := *spec.Process
	proc.Args = []string{"true"}
	b.ResetTimer()
	for range b.N {
		p, err := rt.Exec(ctx, id, &proc, ExecOpts{})
		if err != nil {
			b.Fatal(err)
		}
		if code, err := p.Wait(ctx); err != nil || code != 0 {
			b.Fatalf("exit %d, %v", code, err)
		}
		p.Close()
	}
}
