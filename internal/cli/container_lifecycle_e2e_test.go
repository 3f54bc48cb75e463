package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// waitFor polls cond (a container's state changes in another process);
// it is a wait, not a timed assertion: the limit only stops a hung test.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("gave up waiting for %s", what)
}

func TestE2EDetachedLifecycle(t *testing.T) {
	s := newContainerStore(t)
	out := s.ok(nil, "run", "-d", "--name", "ticker", "--label", "app=demo", "busybox", "sh", "-c",
		"echo started; trap 'echo bye; exit 0' TERM; while true; do sleep 0.1; done")
	if !containerIDLine.MatchString(out) {
		t.Fatalf("run -d printed %q", out)
	}
	id := strings.TrimSpace(out)
	ps := lines(s.ok(nil, "ps"))
	if len(ps) != 2 || ps[0] != "CONTAINER ID   IMAGE     COMMAND                  CREATED                  STATUS                  PORTS     NAMES" && !strings.HasPrefix(ps[0], "CONTAINER ID") {
		t.Fatalf("ps:\n%s", strings.Join(ps, "\n"))
	}
	if !strings.HasPrefix(ps[1], id[:12]+"   busybox   ") || !strings.Contains(ps[1], "   Up ") || !strings.HasSuffix(ps[1], "ticker") {
		t.Fatalf("ps row %q", ps[1])
	}
	if got := s.ok(nil, "ps", "-q", "--filter", "label=app=demo", "--filter", "status=running"); got != id[:12]+"\n" {
		t.Fatalf("ps -q --filter: %q", got)
	}
	waitFor(t, "the log", func() bool { return s.ok(nil, "logs", "ticker") == "started\n" })
	var insp []map[string]any
	if err := json.Unmarshal([]byte(s.ok(nil, "inspect", "ticker")), &insp); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"Id", "Created", "Path", "Args", "State", "Image", "Name", "RestartCount", "Driver", "HostConfig", "GraphDriver", "Mounts", "Config"} {
		if _, ok := insp[0][k]; !ok {
			t.Errorf("inspect has no %s", k)
		}
	}
	if insp[0]["Name"] != "/ticker" || insp[0]["State"].(map[string]any)["Running"] != true {
		t.Errorf("inspect: %v", insp[0])
	}
	s.ok(nil, "stop", "ticker")
	if got := s.ok(nil, "logs", "ticker"); got != "started\nbye\n" {
		t.Fatalf("logs after stop: %q", got)
	}
	if got := s.ok(nil, "wait", "ticker"); got != "0\n" {
		t.Fatalf("wait: %q", got)
	}
	if got := s.ok(nil, "ps", "-a", "--format", "{{.Status}}"); !strings.HasPrefix(got, "Exited (0) ") {
		t.Fatalf("ps -a status %q", got)
	}
	s.ok(nil, "rm", "ticker")
	s.assertClean(t, id)
}

// TestE2EMonitorKilled: a monitor killed with SIGKILL leaves a record that
// says running; ps reports it exited and rm cleans everything up.
func TestE2EMonitorKilled(t *testing.T) {
	s := newContainerStore(t)
	id := strings.TrimSpace(s.ok(nil, "run", "-d", "busybox", "sleep", "600"))
	s.killMonitor(t, id)
	if got := s.ok(nil, "ps", "-a", "--format", "{{.State}} {{.Status}}"); got != "exited Exited (255)\n" {
		t.Fatalf("ps -a after the monitor died: %q", got)
	}
	if got := s.ok(nil, "ps", "-q"); got != "" {
		t.Fatalf("ps lists it as running: %q", got)
	}
	s.ok(nil, "rm", id)
	s.assertClean(t, id)
}

// monitorPid is the pid container id's state.json names for its monitor.
func (s *store) monitorPid(t *testing.T, id string) int {
	t.Helper()
	var st struct{ MonitorPid int }
	data, err := os.ReadFile(filepath.Join(s.root, "containers", id, "state.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &st); err != nil || st.MonitorPid <= 0 {
		t.Fatalf("state: %s", data)
	}
	return st.MonitorPid
}

// killMonitor kills container id's monitor with SIGKILL and waits until
// it is gone.
func (s *store) killMonitor(t *testing.T, id string) {
	t.Helper()
	pid := s.monitorPid(t, id)
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the monitor to die", func() bool {
		return syscall.Kill(pid, 0) != nil || isZombie(pid)
	})
}

func isZombie(pid int) bool {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	i := strings.LastIndexByte(string(data), ')')
	return i > 0 && len(data) > i+2 && data[i+2] == 'Z'
}

func TestE2EConcurrentRunRm(t *testing.T) {
	s := newContainerStore(t)
	const n = 20
	var wg sync.WaitGroup
	results := make([]result, n)
	cids := make([]string, n)
	dir := t.TempDir()
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cids[i] = filepath.Join(dir, fmt.Sprintf("cid-%d", i))
			results[i] = s.run(nil, "run", "--rm", "--cidfile", cids[i], "busybox", "true")
		}()
	}
	wg.Wait()
	var ids []string
	for i, r := range results {
		if r.code != 0 {
			t.Errorf("run %d: exit %d: %s", i, r.code, r.stderr)
		}
		if data, err := os.ReadFile(cids[i]); err == nil {
			ids = append(ids, string(data))
		}
	}
	if len(ids) != n {
		t.Errorf("%d cidfiles, want %d", len(ids), n)
	}
	s.assertClean(t, ids...)
}

// TestE2EContainerErrors: docker's one-line errors and exit codes, and
// nothing changed by a command that failed.
func TestE2EContainerErrors(t *testing.T) {
	s := newContainerStore(t)
	id := strings.TrimSpace(s.ok(nil, "run", "-d", "--name", "busy", "busybox", "sleep", "600"))
	cases := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"unknown image", []string{"run", "--rm", "nope"}, 125, "strata: Error: No such image: nope\n"},
		{"bad flag", []string{"run", "--bogus", "busybox"}, 125, "unknown flag: --bogus\nSee 'strata run --help'.\n"},
		{"bad memory", []string{"run", "-m", "12XB", "busybox"}, 125,
			"invalid argument \"12XB\" for \"-m, --memory\" flag: invalid size: '12XB'\nSee 'strata run --help'.\n"},
		{"name conflict", []string{"run", "--name", "busy", "busybox", "true"}, 125,
			`strata: Error: Conflict. The container name "/busy" is already in use by container "` + id +
				`". You have to remove (or rename) that container to be able to reuse that name.` + "\n"},
		{"rm running", []string{"rm", "busy"}, 1,
			"Error response from daemon: cannot remove container \"/busy\": container is running: stop the container before removing or force remove\n"},
		{"no such container", []string{"stop", "nope"}, 1, "Error response from daemon: No such container: nope\n"},
		{"command not found", []string{"run", "--rm", "busybox", "no-such-command"}, 127, ""},
		{"not executable", []string{"run", "--rm", "busybox", "/etc/passwd"}, 126, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := s.run(nil, c.args...)
			if r.code != c.code || (c.stderr != "" && r.stderr != c.stderr) {
				t.Errorf("exit %d, stderr %q; want %d, %q", r.code, r.stderr, c.code, c.stderr)
			}
			if strings.Count(strings.TrimSpace(r.stderr), "\n") > 1 {
				t.Errorf("not a one-line error: %q", r.stderr)
			}
			if got := s.ok(nil, "ps", "-aq", "--no-trunc"); got != id+"\n" {
				t.Errorf("containers changed: %q", got)
			}
		})
	}
	// Starting a running container is docker's "not modified": success.
	if got := s.ok(nil, "start", "busy"); got != "busy\n" {
		t.Errorf("start of a running container: %q", got)
	}
	r := s.run(nil, "rmi", "busybox")
	if r.code != 1 || !strings.Contains(r.stderr, "container "+id[:12]+" is using its referenced image") {
		t.Errorf("rmi of a used image: exit %d, %q", r.code, r.stderr)
	}
	s.ok(nil, "rm", "-f", "busy")
	s.assertClean(t, id)
}

func TestE2EKillRestartPrune(t *testing.T) {
	s := newContainerStore(t)
	s.ok(nil, "run", "-d", "--name", "k1", "busybox", "sh", "-c", "echo one; echo two; echo three; sleep 600")
	waitFor(t, "the log", func() bool { return strings.Count(s.ok(nil, "logs", "k1"), "\n") == 3 })
	if got := s.ok(nil, "logs", "--tail", "2", "k1"); got != "two\nthree\n" {
		t.Errorf("logs --tail 2: %q", got)
	}
	if got := s.ok(nil, "logs", "-t", "--tail", "1", "k1"); !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z three\n$`).MatchString(got) {
		t.Errorf("logs -t: %q", got)
	}
	s.ok(nil, "kill", "-s", "TERM", "k1") // sh as pid 1 ignores TERM
	if got := s.ok(nil, "ps", "-q", "--filter", "name=k1"); got == "" {
		t.Fatal("TERM stopped a pid 1 without a handler")
	}
	s.ok(nil, "kill", "k1")
	if got := s.ok(nil, "wait", "k1"); got != "137\n" {
		t.Errorf("wait after kill: %q", got)
	}
	s.ok(nil, "restart", "k1")
	if got := s.ok(nil, "ps", "--format", "{{.Names}} {{.State}}"); got != "k1 running\n" {
		t.Errorf("after restart: %q", got)
	}
	s.ok(nil, "create", "--name", "k2", "busybox", "true")
	if got := s.ok(nil, "ps", "-n", "1", "--format", "{{.Names}} {{.Status}}"); got != "k2 Created\n" {
		t.Errorf("ps -n 1: %q", got)
	}
	out := s.ok(nil, "container", "prune", "-f")
	if !strings.HasPrefix(out, "Deleted Containers:\n") || strings.Count(out, "\n") != 4 {
		t.Errorf("prune: %q", out)
	}
	if got := s.ok(nil, "ps", "-a", "--format", "{{.Names}}"); got != "k1\n" {
		t.Errorf("prune removed a running container, or left a stopped one: %q", got)
	}
	s.ok(nil, "rm", "-f", "k1")
	s.assertClean(t)
}

// TestE2EImageKeptByContainer: a container keeps running after `rmi -f`
// of its image, garbage collection keeps its layers, and they go with it.
func TestE2EImageKeptByContainer(t *testing.T) {
	s := newContainerStore(t)
	s.ok(nil, "create", "--name", "keeper", "busybox", "echo", "still here")
	s.ok(nil, "rmi", "-f", "busybox")
	s.ok(nil, "image", "prune", "-a", "-f")
	if got := s.ok(nil, "start", "-a", "keeper"); got != "still here\n" {
		t.Fatalf("start -a after rmi -f: %q", got)
	}
	s.ok(nil, "rm", "keeper")
	if got := s.ok(nil, "image", "prune", "-a", "-f"); got == "Total reclaimed space: 0B\n" {
		t.Errorf("the container's layers were not freed with it: %q", got)
	}
	if layers, _ := filepath.Glob(filepath.Join(s.root, "layers", "*", "layers", "*")); len(layers) != 0 {
		t.Errorf("layers left: %v", layers)
	}
	s.assertClean(t)
}
