package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestE2EDiff: docker's A/C/D lines for files added, changed and deleted
// by a container, in docker's order.
func TestE2EDiff(t *testing.T) {
	s := newContainerStore(t)
	s.ok(nil, "run", "--name", "differ", "busybox", "sh", "-c",
		"echo hi > /hello; rm /etc/group; echo x >> /etc/passwd; mkdir -p /tmp/a/b")
	want := "C /etc\nD /etc/group\nC /etc/passwd\nA /hello\nC /tmp\nA /tmp/a\nA /tmp/a/b\n"
	if got := s.ok(nil, "diff", "differ"); got != want {
		t.Errorf("diff:\n%s\nwant:\n%s", got, want)
	}
	r := s.run(nil, "diff", "nosuch")
	if r.code != 1 || !strings.Contains(r.stderr, "No such container: nosuch") {
		t.Errorf("diff of a missing container: exit %d, %q", r.code, r.stderr)
	}
}

// TestE2ECommit: the committed image runs at once, holds what the
// container wrote and not what it deleted, carries the config with the
// changes, and shares the base layer's files rather than copying them.
func TestE2ECommit(t *testing.T) {
	s := newContainerStore(t)
	s.ok(nil, "run", "--name", "base", "-e", "FROM_RUN=1", "-w", "/tmp", "busybox", "sh", "-c",
		"echo committed > /hello; rm /etc/group")
	out := s.ok(nil, "commit", "-a", "me", "-m", "a message", "-c", "ENV FOO=bar", "-c", `CMD ["cat", "/hello"]`, "base", "snap:v1")
	if !regexp.MustCompile(`^sha256:[0-9a-f]{64}\n$`).MatchString(out) {
		t.Fatalf("commit printed %q", out)
	}
	if got := s.ok(nil, "run", "--rm", "snap:v1"); got != "committed\n" {
		t.Errorf("the new image's CMD printed %q", got)
	}
	if r := s.run(nil, "run", "--rm", "snap:v1", "sh", "-c", `echo $FOO $FROM_RUN $(pwd); ls /etc/group 2>&1`); !strings.HasPrefix(r.stdout, "bar 1 /tmp\nls: /etc/group: No such file") {
		t.Errorf("config or deletion not carried: %q", r.stdout)
	}
	var inspect []struct {
		Author  string
		Comment string
		Parent  string
		RootFS  struct{ Layers []string }
		Graph   struct{ Data map[string]string } `json:"GraphDriver"`
	}
	if err := json.Unmarshal([]byte(s.ok(nil, "image", "inspect", "snap:v1")), &inspect); err != nil || len(inspect) != 1 {
		t.Fatalf("inspect: %v", err)
	}
	img := inspect[0]
	if img.Author != "me" || len(img.RootFS.Layers) != 2 {
		t.Errorf("inspect: author %q, layers %v", img.Author, img.RootFS.Layers)
	}
	if h := s.ok(nil, "history", "--format", "{{.Comment}}", "snap:v1"); !strings.HasPrefix(h, "a message\n") {
		t.Errorf("history comments %q", h)
	}
	// The base layer is busybox's own directory: same file, not a copy.
	var base []struct {
		GraphDriver struct{ Data map[string]string }
	}
	if err := json.Unmarshal([]byte(s.ok(nil, "image", "inspect", "busybox")), &base); err != nil {
		t.Fatal(err)
	}
	a, err := os.Stat(filepath.Join(base[0].GraphDriver.Data["UpperDir"], "bin/busybox"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.Stat(filepath.Join(img.Graph.Data["LowerDir"], "bin/busybox"))
	if err != nil || !os.SameFile(a, b) {
		t.Errorf("the committed image's base layer is not busybox's (%v)", err)
	}
	if _, err := os.Stat(filepath.Join(img.Graph.Data["UpperDir"], "hello")); err != nil {
		t.Errorf("the new layer lacks /hello: %v", err)
	}

	// A running container is paused for the commit and runs on after.
	id := strings.TrimSpace(s.ok(nil, "run", "-d", "--name", "live", "busybox", "sh", "-c", "echo up > /up; exec sleep 1000"))
	waitFor(t, "the container to write /up", func() bool { return s.run(nil, "diff", "live").stdout != "" })
	s.ok(nil, "commit", "live", "snap:live")
	if got := s.ok(nil, "inspect", "-f", "{{.State.Status}}", "live"); got != "running\n" {
		t.Errorf("after commit the container is %q", got)
	}
	if got := s.ok(nil, "run", "--rm", "snap:live", "cat", "/up"); got != "up\n" {
		t.Errorf("commit of a running container: /up holds %q", got)
	}
	s.ok(nil, "rm", "-f", "live", "base")
	r := s.run(nil, "commit", "nosuch")
	if r.code != 1 || !strings.Contains(r.stderr, "No such container: nosuch") {
		t.Errorf("commit of a missing container: exit %d, %q", r.code, r.stderr)
	}
	s.assertClean(t, id)
}
