package cli

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestE2EPauseUnpause: a paused container shows as paused in ps and
// inspect, its processes really stop (a counter it writes does not move),
// and unpause, kill and rm -f of a paused container work.
func TestE2EPauseUnpause(t *testing.T) {
	s := newContainerStore(t)
	id := strings.TrimSpace(s.ok(nil, "run", "-d", "--name", "pz", "busybox", "sh", "-c",
		"i=0; while :; do i=$((i+1)); echo $i > /count; done"))
	s.ok(nil, "pause", "pz")
	if got := s.ok(nil, "inspect", "-f", "{{.State.Status}} {{.State.Running}} {{.State.Paused}}", "pz"); got != "paused true true\n" {
		t.Errorf("inspect of a paused container: %q", got)
	}
	if got := s.ok(nil, "ps", "--format", "{{.Status}}"); !regexp.MustCompile(`^Up .* \(Paused\)\n$`).MatchString(got) {
		t.Errorf("ps status %q, want Up ... (Paused)", got)
	}
	if got := s.ok(nil, "ps", "-q", "--filter", "status=paused"); got != id[:12]+"\n" {
		t.Errorf("ps --filter status=paused: %q", got)
	}
	// Frozen: the counter reads the same from the host twice over.
	upper := findFile(t, s.root+"/layers", "count")
	if len(upper) != 1 {
		t.Fatalf("count files %v", upper)
	}
	before := readTrim(t, upper[0])
	s.ok(nil, "run", "--rm", "busybox", "true") // time passes
	if after := readTrim(t, upper[0]); after != before {
		t.Errorf("a paused container kept counting: %s then %s", before, after)
	}
	r := s.run(nil, "pause", "pz")
	if r.code != 1 || r.stderr != "Error response from daemon: container "+id+" is already paused\n" {
		t.Errorf("second pause: exit %d, %q", r.code, r.stderr)
	}
	s.ok(nil, "unpause", "pz")
	if got := s.ok(nil, "inspect", "-f", "{{.State.Status}}", "pz"); got != "running\n" {
		t.Errorf("status after unpause %q", got)
	}
	r = s.run(nil, "unpause", "pz")
	if r.code != 1 || r.stderr != "Error response from daemon: container "+id+" is not paused\n" {
		t.Errorf("unpause of a running container: exit %d, %q", r.code, r.stderr)
	}

	s.ok(nil, "pause", "pz")
	r = s.run(nil, "rm", "pz")
	if r.code != 1 || r.stderr != "Error response from daemon: cannot remove container \"/pz\": container is paused and must be unpaused first\n" {
		t.Errorf("rm of a paused container: exit %d, %q", r.code, r.stderr)
	}
	s.ok(nil, "kill", "pz")
	if got := s.ok(nil, "wait", "pz"); got != "137\n" {
		t.Errorf("wait after kill of a paused container: %q", got)
	}
	if got := s.ok(nil, "inspect", "-f", "{{.State.Status}}", "pz"); got != "exited\n" {
		t.Errorf("status after kill %q", got)
	}
	r = s.run(nil, "pause", "pz")
	if r.code != 1 || r.stderr != "Error response from daemon: container "+id+" is not running\n" {
		t.Errorf("pause of a stopped container: exit %d, %q", r.code, r.stderr)
	}

	s.ok(nil, "start", "pz")
	s.ok(nil, "pause", "pz")
	if got := s.ok(nil, "inspect", "-f", "{{.State.Status}}", "pz"); got != "paused\n" {
		t.Errorf("status after the second run's pause %q", got)
	}
	s.ok(nil, "rm", "-f", "pz")
	s.assertClean(t, id)
}

func readTrim(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(data))
}
