package cli

import (
	"os"
	"strings"
	"testing"
)

// TestE2EExec runs `strata exec` against a `run -d` busybox sleep.
func TestE2EExec(t *testing.T) {
	s := newContainerStore(t)
	id := strings.TrimSpace(s.ok(nil, "run", "-d", "--name", "box", "-h", "box-host", "-e", "FROM_RUN=1", "busybox", "sleep", "1000"))
	for _, tc := range []struct {
		name   string
		stdin  string
		args   []string
		stdout string
		code   int
	}{
		{name: "hostname", args: []string{"box", "hostname"}, stdout: "box-host\n"},
		{name: "pid 1 is the workload", args: []string{"box", "cat", "/proc/1/cmdline"}, stdout: "sleep\x001000\x00"},
		{name: "user", args: []string{"-u", "1000:1000", "box", "id"}, stdout: "uid=1000 gid=1000\n"},
		{name: "env and workdir", args: []string{"-e", "FOO=bar", "-w", "/tmp", "box", "sh", "-c", "echo $FOO $FROM_RUN $PWD"}, stdout: "bar 1 /tmp\n"},
		{name: "stdin with -i", stdin: "hello\n", args: []string{"-i", "box", "cat"}, stdout: "hello\n"},
		{name: "no stdin without -i", stdin: "hello\n", args: []string{"box", "cat"}, stdout: ""},
		{name: "exit code", args: []string{"box", "sh", "-c", "exit 3"}, code: 3},
		{name: "terminal", args: []string{"-t", "box", "tty"}, stdout: "/dev/pts/0\r\n"},
		// As much as this process may give: its own bounding set.
		{name: "privileged", args: []string{"--privileged", "box", "sh", "-c", "grep CapEff /proc/self/status"}, stdout: ownCapBnd(t)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := s.run(strings.NewReader(tc.stdin), append([]string{"exec"}, tc.args...)...)
			if r.code != tc.code || r.stdout != tc.stdout {
				t.Fatalf("exit %d, stdout %q, stderr %q; want exit %d, stdout %q", r.code, r.stdout, r.stderr, tc.code, tc.stdout)
			}
		})
	}
	r := s.run(nil, "exec", "box", "no-such-command")
	if r.code != 127 || !strings.Contains(r.stderr, `"no-such-command": executable file not found in $PATH`) {
		t.Errorf("missing command: exit %d, stderr %q; want 127", r.code, r.stderr)
	}
	r = s.run(nil, "exec", "box", "/etc/passwd")
	if r.code != 126 {
		t.Errorf("not executable: exit %d, stderr %q; want 126", r.code, r.stderr)
	}
	r = s.run(nil, "exec", "-w", "/no/such/dir", "box", "true")
	if r.code != 126 || !strings.Contains(r.stderr, "/no/such/dir") {
		t.Errorf("missing working directory: exit %d, stderr %q; want 126", r.code, r.stderr)
	}
	if out := s.ok(nil, "exec", "-d", "box", "sleep", "1001"); out != "" {
		t.Errorf("exec -d printed %q", out)
	}
	waitFor(t, "the detached exec", func() bool {
		return strings.Contains(s.ok(nil, "exec", "box", "ps", "-o", "args"), "sleep 1001")
	})
	s.ok(nil, "stop", "-t", "0", "box")
	if procs := processesMentioning("sleep 1001"); len(procs) > 0 {
		t.Errorf("the exec'd process outlived its container: %v", procs)
	}
	r = s.run(nil, "exec", "box", "true")
	if want := "Error response from daemon: container " + id + " is not running\n"; r.code != 1 || r.stderr != want {
		t.Errorf("exec into a stopped container: exit %d, stderr %q; want 1, %q", r.code, r.stderr, want)
	}
	s.ok(nil, "rm", "box")
	s.assertClean(t, id)
}

func ownCapBnd(t *testing.T) string {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(l, "CapBnd:"); ok {
			return "CapEff:" + v + "\n"
		}
	}
	t.Fatal("no CapBnd in /proc/self/status")
	return ""
}
