package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/strata-containers/strata/internal/spec"
	"github.com/strata-containers/strata/internal/testutil"
)

// ociCLI drives `strata runtime` (or hack/strata-runc) on one state
// directory, as runtime-tools does: each verb is a process of its own.
type ociCLI struct {
	t        *testing.T
	argv     []string // the command and its global flags
	env      []string
	stateDir string
}

func newOCICLI(t *testing.T) *ociCLI {
	t.Helper()
	testutil.RequireRoot(t)
	if _, err := os.Stat("/proc/self/ns/cgroup"); err != nil {
		t.Skip("needs cgroup namespaces (/proc/self/ns/cgroup)")
	}
	state := filepath.Join(t.TempDir(), "state")
	return &ociCLI{t: t, argv: []string{strataBinary(t), "runtime", "--state", state}, env: os.Environ(), stateDir: state}
}

// viaWrapper makes the CLI go through hack/strata-runc with runc's global
// flags, which must map --root to the state directory and drop the rest.
func (o *ociCLI) viaWrapper() *ociCLI {
	wrapper, err := filepath.Abs("../../hack/strata-runc")
	if err != nil {
		o.t.Fatal(err)
	}
	w := *o
	w.argv = []string{wrapper, "--log", filepath.Join(o.t.TempDir(), "log.json"), "--log-format", "json",
		"--systemd-cgroup", "--root", o.stateDir}
	w.env = append(os.Environ(), "STRATA="+strataBinary(o.t))
	return &w
}

// run runs a verb and returns what it printed and its exit code. With
// stdout set (create), the verb's output goes to files, as runtime-tools
// does: the container's init inherits them and outlives the verb, so pipes
// would only reach EOF when the container exits.
func (o *ociCLI) run(stdout *os.File, args ...string) result {
	o.t.Helper()
	cmd := exec.Command(o.argv[0], append(o.argv[1:], args...)...)
	cmd.Env = o.env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	var stderr *os.File
	if stdout != nil {
		var err error
		if stderr, err = os.Create(filepath.Join(o.t.TempDir(), "stderr")); err != nil {
			o.t.Fatal(err)
		}
		defer stderr.Close()
		cmd.Stdout, cmd.Stderr = stdout, stderr
	}
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String()}
	if stderr != nil {
		data, _ := os.ReadFile(stderr.Name())
		r.stderr = string(data)
	}
	if exit, ok := err.(*exec.ExitError); ok {
		r.code = exit.ExitCode()
	} else if err != nil {
		o.t.Fatalf("%v: %v", args, err)
	}
	return r
}

func (o *ociCLI) ok(args ...string) string {
	o.t.Helper()
	r := o.run(nil, args...)
	if r.code != 0 {
		o.t.Fatalf("%v: exit %d: %s", args, r.code, r.stderr)
	}
	return r.stdout
}

func (o *ociCLI) state(id string) specs.State {
	o.t.Helper()
	var st specs.State
	if err := json.Unmarshal([]byte(o.ok("state", id)), &st); err != nil {
		o.t.Fatalf("state %s: %v", id, err)
	}
	return st
}

// waitStopped polls state, as runtime-tools does, until the container
// stopped; the deadline only bounds a hang.
func (o *ociCLI) waitStopped(id string) specs.State {
	o.t.Helper()
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(10 * time.Millisecond) {
		st := o.state(id)
		if st.Status == specs.StateStopped || time.Now().After(deadline) {
			return st
		}
	}
}

// create creates container id from a new busybox bundle running args,
// with the workload's stdout in the returned file; a force delete cleans
// up whatever the test leaves.
func (o *ociCLI) create(id string, args ...string) (bundle string, stdout *os.File) {
	o.t.Helper()
	bundle = newOCIBundle(o.t, id, args...)
	stdout, err := os.Create(filepath.Join(o.t.TempDir(), "stdout"))
	if err != nil {
		o.t.Fatal(err)
	}
	o.t.Cleanup(func() {
		stdout.Close()
		o.run(nil, "delete", "--force", id)
	})
	if r := o.run(stdout, "create", "--bundle", bundle, "--pid-file", filepath.Join(bundle, "pid"), id); r.code != 0 {
		o.t.Fatalf("create: exit %d: %s", r.code, r.stderr)
	}
	return bundle, stdout
}

// newOCIBundle is a busybox bundle with the spec `docker run` would give.
func newOCIBundle(t *testing.T, id string, args ...string) string {
	t.Helper()
	bundle := t.TempDir()
	rootfs := filepath.Join(bundle, "rootfs")
	if err := os.Mkdir(rootfs, 0o755); err != nil {
		t.Fatal(err)
	}
	tarball := writeFile(t, "busybox.tar", testutil.BusyboxRootfs(t))
	testutil.Run(t, "tar", "-xf", tarball, "-C", rootfs)
	s := spec.Default(id)
	s.Process.Args = args
	s.Annotations = map[string]string{"org.example.test": id}
	data, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bundle, "config.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	return bundle
}

// create leaves the init waiting after the create process exited; start
// runs the workload, whose exit state observes without being its parent.
func TestRuntimeCLILifecycle(t *testing.T) {
	for _, tc := range []struct {
		name string
		cli  func(*ociCLI) *ociCLI
	}{
		{"strata runtime", func(o *ociCLI) *ociCLI { return o }},
		{"hack/strata-runc", (*ociCLI).viaWrapper},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.cli(newOCICLI(t))
			id := "lifecycle-" + strconv.Itoa(os.Getpid())
			bundle, stdout := o.create(id, "sh", "-c", "echo hello from $(hostname)")
			st := o.state(id)
			pid, err := os.ReadFile(filepath.Join(bundle, "pid"))
			if err != nil {
				t.Fatal(err)
			}
			want := specs.State{Version: st.Version, ID: id, Status: specs.StateCreated, Pid: st.Pid, Bundle: bundle,
				Annotations: map[string]string{"org.example.test": id}}
			if st.Version == "" || st.Pid <= 0 || strconv.Itoa(st.Pid) != string(pid) || !stateEqual(st, want) {
				t.Fatalf("state after create: %+v, want %+v with the pid file's pid %s", st, want, pid)
			}
			if err := unix.Kill(st.Pid, 0); err != nil {
				t.Fatalf("init %d after create exited: %v", st.Pid, err)
			}
			o.ok("start", id)
			if st := o.waitStopped(id); st.Status != specs.StateStopped {
				t.Fatalf("status %q after the workload exited, want stopped", st.Status)
			}
			if out, _ := os.ReadFile(stdout.Name()); string(out) != "hello from "+spec.Hostname(id)+"\n" {
				t.Errorf("workload stdout %q", out)
			}
			o.ok("delete", id)
			if r := o.run(nil, "state", id); r.code != 1 || !strings.Contains(r.stderr, "no such container") {
				t.Errorf("state after delete: exit %d, stderr %q; want 1, no such container", r.code, r.stderr)
			}
		})
	}
}

func stateEqual(a, b specs.State) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}

// kill signals the init; delete refuses a live container unless forced;
// the verbs fail with exit 1 on what they cannot do.
func TestRuntimeCLIKillAndDelete(t *testing.T) {
	o := newOCICLI(t)
	id := "kill-" + strconv.Itoa(os.Getpid())
	o.create(id, "sleep", "1000")
	if r := o.run(nil, "delete", id); r.code != 1 || o.state(id).Status != specs.StateCreated {
		t.Fatalf("delete of a created container: exit %d, stderr %q; want 1 and the container left alone", r.code, r.stderr)
	}
	o.ok("start", id)
	if r := o.run(nil, "start", id); r.code != 1 || o.state(id).Status != specs.StateRunning {
		t.Errorf("second start: exit %d, stderr %q; want 1 and the container still running", r.code, r.stderr)
	}
	if r := o.run(nil, "kill", id, "NOSUCHSIG"); r.code != 1 {
		t.Errorf("kill with an unknown signal: exit %d, want 1", r.code)
	}
	// The workload is pid 1 of its namespace: only SIGKILL ends it.
	o.ok("kill", id, "KILL")
	if st := o.waitStopped(id); st.Status != specs.StateStopped || st.Pid != 0 {
		t.Fatalf("after kill KILL: %+v, want stopped", st)
	}
	o.ok("delete", id)

	id2 := id + "-forced"
	o.create(id2, "sleep", "1000")
	o.ok("start", id2)
	pid := o.state(id2).Pid
	o.ok("delete", "--force", id2)
	if procAlive(pid) {
		t.Errorf("init %d still runs after delete --force", pid)
	}
	if entries, _ := os.ReadDir(o.stateDir); len(entries) != 0 {
		t.Errorf("state directory keeps %d entries after delete", len(entries))
	}
}

// procAlive reports whether pid runs (a zombie does not).
func procAlive(pid int) bool {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && len(s) > i+2 && s[i+2] != 'Z' && s[i+2] != 'X'
}

func TestParseSignal(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want unix.Signal
		ok   bool
	}{
		{"9", unix.SIGKILL, true},
		{"KILL", unix.SIGKILL, true},
		{"SIGTERM", unix.SIGTERM, true},
		{"hup", unix.SIGHUP, true},
		{"SIGUSR1", unix.SIGUSR1, true},
		{"0", 0, false},
		{"65", 0, false},
		{"NOPE", 0, false},
		{"", 0, false},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parseSignal(tc.in)
			if (err == nil) != tc.ok || got != tc.want {
				t.Errorf("parseSignal(%q) = %v, %v; want %v, ok %v", tc.in, got, err, tc.want, tc.ok)
			}
		})
	}
}
