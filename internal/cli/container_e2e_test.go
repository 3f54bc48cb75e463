package cli

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/vishvananda/netlink"

	"github.com/strata-containers/strata/internal/network/firewall"
	"github.com/strata-containers/strata/internal/testutil"
)

var containerIDLine = regexp.MustCompile(`^[0-9a-f]{64}\n$`)

// newContainerStore is a store holding busybox:latest, for tests that run
// containers (root, overlay, cgroup namespaces, Debian's busybox-static).
func newContainerStore(t *testing.T) *store {
	t.Helper()
	testutil.RequireRoot(t)
	testutil.RequireOverlay(t)
	if _, err := os.Stat("/proc/self/ns/cgroup"); err != nil {
		t.Skip("needs cgroup namespaces (/proc/self/ns/cgroup)")
	}
	s := newStore(t)
	s.ok(nil, "import", "--change", `CMD ["sh"]`, writeFile(t, "busybox.tar", testutil.BusyboxRootfs(t)), "busybox:latest")
	// Whatever a failed test leaves running must not outlive it, nor the
	// throwaway root's default bridge and rules: a root that a real user
	// keeps would adopt them again, a test's goes with its temp dir (a
	// run killed while it made the bridge can leave it unrecorded).
	t.Cleanup(func() {
		for _, id := range strings.Fields(s.run(nil, "ps", "-aq", "--no-trunc").stdout) {
			s.run(nil, "rm", "-f", id)
		}
		removeRootBridge(t, s.root)
	})
	return s
}

// removeRootBridge removes the default bridge of the store at root, and
// every firewall rule of the store, if any is left.
func removeRootBridge(t *testing.T, root string) {
	scope := fmt.Sprintf("%x", sha256.Sum256([]byte(filepath.Clean(root))))[:8]
	if link, err := netlink.LinkByName("strata-" + scope); err == nil {
		if err := netlink.LinkDel(link); err != nil {
			t.Errorf("removing the bridge of %s: %v", root, err)
		}
	}
	fw, err := firewall.Open(filepath.Join(t.TempDir(), "fw.lock"), scope)
	if err != nil {
		return
	}
	defer fw.Close()
	if err := fw.Sweep(context.Background(), func(string) bool { return false }); err != nil {
		t.Errorf("removing the firewall rules of %s: %v", root, err)
	}
}

// assertClean fails unless the containers left nothing behind: no mount,
// no monitor, no runtime state or bundle, no record, no cgroup of ids.
func (s *store) assertClean(t *testing.T, ids ...string) {
	t.Helper()
	mi, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(mi, []byte(s.root)) {
		t.Errorf("mounts left under %s:\n%s", s.root, grepLines(string(mi), s.root))
	}
	for _, dir := range []string{"run/containers", "run/runtime", "containers/names"} {
		entries, _ := os.ReadDir(filepath.Join(s.root, dir))
		if len(entries) > 0 {
			t.Errorf("%s not empty: %v", dir, entries)
		}
	}
	entries, _ := os.ReadDir(filepath.Join(s.root, "containers"))
	if len(entries) != 1 {
		t.Errorf("containers/ holds %v, want only names/", entries)
	}
	if procs := processesMentioning(s.root); len(procs) > 0 {
		t.Errorf("processes left: %v", procs)
	}
	for _, id := range ids {
		if m, _ := filepath.Glob("/sys/fs/cgroup/*/strata/" + id); len(m) > 0 {
			t.Errorf("cgroups left: %v", m)
		}
		if m, _ := filepath.Glob("/sys/fs/cgroup/strata/" + id); len(m) > 0 {
			t.Errorf("cgroups left: %v", m)
		}
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// processesMentioning lists the processes whose command line contains s
// (a monitor names its bundle, which is under the store's root).
func processesMentioning(s string) []string {
	var out []string
	dirs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range dirs {
		data, err := os.ReadFile(p)
		if err == nil && bytes.Contains(data, []byte(s)) {
			out = append(out, filepath.Base(filepath.Dir(p))+": "+strings.ReplaceAll(string(data), "\x00", " "))
		}
	}
	return out
}

func TestE2ERunForeground(t *testing.T) {
	s := newContainerStore(t)
	r := s.run(nil, "run", "--rm", "busybox", "echo", "hello from a container")
	if r.code != 0 || r.stdout != "hello from a container\n" {
		t.Fatalf("run: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	r = s.run(nil, "run", "--rm", "busybox", "sh", "-c", "echo out; echo err >&2; exit 3")
	if r.code != 3 || r.stdout != "out\n" || r.stderr != "err\n" {
		t.Fatalf("exit 3: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	r = s.run(nil, "run", "--rm", "-e", "A=1", "-w", "/tmp", "-u", "1000:1000", "--hostname", "box",
		"busybox", "sh", "-c", `echo "$A $(pwd) $(id -u):$(id -g) $(hostname)"`)
	if r.code != 0 || r.stdout != "1 /tmp 1000:1000 box\n" {
		t.Fatalf("options: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--entrypoint", "echo", "busybox"}, "\n"}, // the image's Cmd goes with its entrypoint
		{[]string{"--entrypoint", "echo", "busybox", "a", "b"}, "a b\n"},
		{[]string{"--entrypoint", "", "busybox", "echo", "c"}, "c\n"},
	} {
		r := s.run(nil, append([]string{"run", "--rm"}, c.args...)...)
		if r.code != 0 || r.stdout != c.want {
			t.Errorf("run %q: exit %d, stdout %q, want %q (stderr %q)", c.args, r.code, r.stdout, c.want, r.stderr)
		}
	}
	s.assertClean(t)
}

// TestE2EWritableLayer: what a container writes lands in its writable
// layer (not in the image), and goes with rm.
func TestE2EWritableLayer(t *testing.T) {
	s := newContainerStore(t)
	s.ok(nil, "run", "--name", "writer", "busybox", "sh", "-c", "echo written-by-container > /marker")
	id := strings.TrimSpace(s.ok(nil, "inspect", "-f", "{{.Id}}", "writer"))
	found := findFile(t, filepath.Join(s.root, "layers"), "marker")
	if len(found) != 1 || !strings.Contains(found[0], id) {
		t.Fatalf("marker files %v, want one in the writable layer of %s", found, id)
	}
	if data, _ := os.ReadFile(found[0]); string(data) != "written-by-container\n" {
		t.Fatalf("marker holds %q", data)
	}
	if r := s.run(nil, "run", "--rm", "busybox", "cat", "/marker"); r.code != 1 || r.stdout != "" {
		t.Fatalf("another container sees the file: exit %d, %q", r.code, r.stdout)
	}
	s.ok(nil, "rm", "writer")
	if found := findFile(t, filepath.Join(s.root, "layers"), "marker"); len(found) != 0 {
		t.Fatalf("rm left %v", found)
	}
	s.assertClean(t, id)
}

func findFile(t *testing.T, root, name string) []string {
	t.Helper()
	var found []string
	_ = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Name() == name && d.Type().IsRegular() {
			found = append(found, p)
		}
		return nil
	})
	return found
}
