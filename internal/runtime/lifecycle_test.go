package runtime

import (
	"bufio"
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

func TestRunEchoAndExitStatus(t *testing.T) {
	rt := newRuntime(t)
	for _, tc := range []struct {
		script string
		stdout string
		code   int
	}{
		{"echo hello", "hello\n", 0},
		{"echo oops >&2; exit 3", "", 3},
		{"exit 255", "", 255},
	} {
		t.Run(tc.script, func(t *testing.T) {
			bundle, spec := newBundle(t, "sh", "-c", tc.script)
			res := run(t, rt, bundle, spec)
			if res.stdout != tc.stdout || res.code != tc.code {
				t.Fatalf("got stdout %q, exit %d (stderr %q); want %q, %d", res.stdout, res.code, res.stderr, tc.stdout, tc.code)
			}
		})
	}
}

// TestLifecycle follows one container through the OCI states.
func TestLifecycle(t *testing.T) {
	ctx := context.Background()
	rt := newRuntime(t)
	bundle, spec := newBundle(t, "sh", "-c", "read line; echo got $line")
	limit := int64(64 << 20)
	spec.Linux.Resources.Memory = &specs.LinuxMemory{Limit: &limit}
	writeSpec(t, bundle, spec)
	id := newID(t)
	forceDelete(t, rt, id)
	stdinR, stdinW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdinW.Close()
	stdout := newOutput(t)
	pidFile := filepath.Join(t.TempDir(), "pid")
	if err := rt.Create(ctx, id, bundle, CreateOpts{Stdin: stdinR, Stdout: stdout.w, PidFile: pidFile}); err != nil {
		t.Fatal(err)
	}
	stdinR.Close()
	stdout.collect()

	st := mustState(t, rt, id, specs.StateCreated)
	if st.Pid <= 0 || st.Bundle != bundle || st.ID != id {
		t.Fatalf("state %+v", st)
	}
	if data, _ := os.ReadFile(pidFile); string(data) != strconv.Itoa(st.Pid) {
		t.Errorf("pid file %q, want %d", data, st.Pid)
	}
	// Everything is set up before Start: the limit is in the cgroup already.
	if got := hostCgroupFile(t, "memory", "/strata/"+id, "memory.limit_in_bytes"); got != "67108864" {
		t.Errorf("memory.limit_in_bytes = %q, want 67108864", got)
	}
	if err := rt.Delete(ctx, id, false); !errdefs.IsConflict(err) {
		t.Errorf("delete of a created container without force: %v, want conflict", err)
	}

	if err := rt.Start(ctx, id); err != nil {
		t.Fatal(err)
	}
	mustState(t, rt, id, specs.StateRunning)
	if stats, err := rt.Stats(ctx, id); err != nil || stats.PidsCurrent != 1 || stats.MemoryUsage == 0 {
		t.Errorf("stats %+v, %v; want 1 process using memory", stats, err)
	}
	if err := rt.Start(ctx, id); !errdefs.IsConflict(err) {
		t.Errorf("second start: %v, want conflict", err)
	}
	stdinW.WriteString("ping\n")
	stdinW.Close()
	if code, err := rt.Wait(ctx, id); err != nil || code != 0 {
		t.Fatalf("wait: %d, %v", code, err)
	}
	if got := stdout.String(); got != "got ping\n" {
		t.Errorf("stdout %q", got)
	}
	mustState(t, rt, id, specs.StateStopped)
	if err := rt.Kill(ctx, id, unix.SIGTERM, false); !errdefs.IsConflict(err) {
		t.Errorf("kill of a stopped container: %v, want conflict", err)
	}

	if err := rt.Delete(ctx, id, false); err != nil {
		t.Fatal(err)
	}
	if _, err := rt.State(ctx, id); !errdefs.IsNotFound(err) {
		t.Errorf("state after delete: %v, want not found", err)
	}
	if _, err := os.Stat(rt.dir(id)); !os.IsNotExist(err) {
		t.Errorf("state directory left: %v", err)
	}
	assertNoCgroup(t, "/strata/"+id)
}

func TestKill(t *testing.T) {
	ctx := context.Background()
	rt := newRuntime(t)
	for _, tc := range []struct {
		name   string
		script string
		sig    unix.Signal
		all    bool
		code   int
	}{
		{"trapped TERM", `trap "exit 7" TERM; echo ready; while :; do sleep 10 & wait $!; done`, unix.SIGTERM, false, 7},
		{"KILL", `echo ready; while :; do sleep 10; done`, unix.SIGKILL, false, 128 + 9},
		{"KILL all", `sleep 100 & sleep 100 & echo ready; wait`, unix.SIGKILL, true, 128 + 9},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bundle, spec := newBundle(t, "sh", "-c", tc.script)
			writeSpec(t, bundle, spec)
			id := newID(t)
			forceDelete(t, rt, id)
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if err := rt.Create(ctx, id, bundle, CreateOpts{Stdout: w}); err != nil {
				t.Fatal(err)
			}
			w.Close()
			if err := rt.Start(ctx, id); err != nil {
				t.Fatal(err)
			}
			// The signal goes only once the shell has set its trap.
			if line, err := bufio.NewReader(r).ReadString('\n'); line != "ready\n" {
				t.Fatalf("read %q, %v; want ready", line, err)
			}
			if err := rt.Kill(ctx, id, tc.sig, tc.all); err != nil {
				t.Fatal(err)
			}
			if code, err := rt.Wait(ctx, id); err != nil || code != tc.code {
				t.Fatalf("exit %d, %v; want %d", code, err, tc.code)
			}
		})
	}
}

func TestForceDeleteKillsEverything(t *testing.T) {
	ctx := context.Background()
	rt := newRuntime(t)
	bundle, spec := newBundle(t, "sh", "-c", "sleep 100 & sleep 100")
	writeSpec(t, bundle, spec)
	id := newID(t)
	forceDelete(t, rt, id)
	if err := rt.Create(ctx, id, bundle, CreateOpts{}); err != nil {
		t.Fatal(err)
	}
	if err := rt.Start(ctx, id); err != nil {
		t.Fatal(err)
	}
	if err := rt.Delete(ctx, id, false); !errdefs.IsConflict(err) {
		t.Fatalf("delete of a running container without force: %v, want conflict", err)
	}
	if err := rt.Delete(ctx, id, true); err != nil {
		t.Fatal(err)
	}
	if code, err := rt.Wait(ctx, id); !errdefs.IsNotFound(err) {
		t.Errorf("wait after delete: %d, %v; want not found", code, err)
	}
	assertNoCgroup(t, "/strata/"+id)
}

func TestCreateErrors(t *testing.T) {
	ctx := context.Background()
	rt := newRuntime(t)
	for _, tc := range []struct {
		name   string
		edit   func(*specs.Spec)
		class  error
		substr string
	}{
		{"missing executable", func(s *specs.Spec) { s.Process.Args = []string{"nonexistent"} },
			ErrExecNotFound, `exec: "nonexistent": executable file not found in $PATH`},
		{"missing absolute executable", func(s *specs.Spec) { s.Process.Args = []string{"/bin/nonexistent"} },
			ErrExecNotFound, `exec: "/bin/nonexistent": executable file not found`},
		{"not executable", func(s *specs.Spec) { s.Process.Args = []string{"/etc/passwd"} },
			ErrExecDenied, `exec: "/etc/passwd": executable cannot be run`},
		{"rlimit above hard limit", func(s *specs.Spec) {
			s.Process.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 1 << 20, Hard: 1 << 20}}
		}, errdefs.ErrUnavailable, "CAP_SYS_RESOURCE"},
		{"unknown capability", func(s *specs.Spec) {
			s.Process.Capabilities.Bounding = []string{"CAP_FLY"}
		}, errdefs.ErrInvalid, `unknown capability "CAP_FLY"`},
		{"no args", func(s *specs.Spec) { s.Process.Args = nil }, errdefs.ErrInvalid, "no process args"},
		// The CVE-2024-21626 shape: a working directory through an fd of
		// the init. None of its fds is a directory, and all are closed later.
		{"cwd through an init fd", func(s *specs.Spec) { s.Process.Cwd = "/proc/self/fd/4" }, errdefs.ErrInvalid, "working directory"},
		{"join a missing pid namespace", func(s *specs.Spec) {
			s.Linux.Namespaces[3].Path = "/nonexistent/ns/pid"
		}, errdefs.ErrNotFound, "/nonexistent/ns/pid"},
		{"bad bind source", func(s *specs.Spec) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/x", Type: "bind", Source: "/nonexistent", Options: []string{"rbind"}})
		}, errdefs.ErrNotFound, "/nonexistent"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bundle, spec := newBundle(t, "true")
			tc.edit(spec)
			writeSpec(t, bundle, spec)
			id := newID(t)
			forceDelete(t, rt, id)
			err := rt.Create(ctx, id, bundle, CreateOpts{})
			if !errors.Is(err, tc.class) || !strings.Contains(err.Error(), tc.substr) {
				t.Fatalf("create: %v; want class %v and %q", err, tc.class, tc.substr)
			}
			if _, err := rt.State(ctx, id); !errdefs.IsNotFound(err) {
				t.Errorf("a failed create left state: %v", err)
			}
			assertNoCgroup(t, "/strata/"+id)
			assertNoTemp(t, rt)
		})
	}
}

func TestIDs(t *testing.T) {
	ctx := context.Background()
	rt := newRuntime(t)
	for _, id := range []string{"", "../x", "-x", strings.Repeat("a", 129), "a/b"} {
		if err := rt.Create(ctx, id, t.TempDir(), CreateOpts{}); !errdefs.IsInvalid(err) {
			t.Errorf("create %q: %v, want invalid", id, err)
		}
	}
	bundle, spec := newBundle(t, "sleep", "100")
	writeSpec(t, bundle, spec)
	id := newID(t)
	forceDelete(t, rt, id)
	if err := rt.Create(ctx, id, bundle, CreateOpts{}); err != nil {
		t.Fatal(err)
	}
	if err := rt.Create(ctx, id, bundle, CreateOpts{}); !errdefs.IsConflict(err) {
		t.Fatalf("second create of %s: %v, want conflict", id, err)
	}
	mustState(t, rt, id, specs.StateCreated)
}

func mustState(t *testing.T, rt *Runtime, id string, want specs.ContainerState) specs.State {
	t.Helper()
	st, err := rt.State(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if st.Status != want {
		t.Fatalf("status %s, want %s", st.Status, want)
	}
	return st
}

func hostCgroupFile(t *testing.T, ctrl, path, file string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("/sys/fs/cgroup", ctrl, path, file))
	if err != nil {
		t.Skipf("needs the cgroup v1 %s controller at /sys/fs/cgroup/%s: %v", ctrl, ctrl, err)
	}
	return strings.TrimSpace(string(data))
}

func assertNoCgroup(t *testing.T, path string) {
	t.Helper()
	entries, _ := os.ReadDir("/sys/fs/cgroup")
	for _, e := range entries {
		if _, err := os.Stat(filepath.Join("/sys/fs/cgroup", e.Name(), path)); err == nil {
			t.Errorf("cgroup %s left in %s", path, e.Name())
		}
	}
	if _, err := os.Stat(filepath.Join("/sys/fs/cgroup", path)); err == nil {
		t.Errorf("cgroup %s left", path)
	}
}

func assertNoTemp(t *testing.T, rt *Runtime) {
	t.Helper()
	entries, _ := os.ReadDir(rt.root)
	for _, e := range entries {
		t.Errorf("state directory holds %s after a failed create", e.Name())
	}
}

// TestConcurrentRuns runs several containers at once through one Runtime.
func TestConcurrentRuns(t *testing.T) {
	rt := newRuntime(t)
	t.Run("group", func(t *testing.T) {
		for i := range 4 {
			t.Run(strconv.Itoa(i), func(t *testing.T) {
				t.Parallel()
				bundle, spec := newBundle(t, "sh", "-c", "echo "+strconv.Itoa(i))
				if res := run(t, rt, bundle, spec); res.stdout != strconv.Itoa(i)+"\n" || res.code != 0 {
					t.Errorf("container %d: %+v", i, res)
				}
			})
		}
	})
}
