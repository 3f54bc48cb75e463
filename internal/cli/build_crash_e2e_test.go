package cli

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestE2EBuildKilledDuringRun kills `strata build` with SIGKILL while a RUN
// step's container runs; the next build sweeps the step away: its
// container (and cgroup), mount, writable layer and bundle.
func TestE2EBuildKilledDuringRun(t *testing.T) {
	s := newNetworkStore(t) // the step was on the bridge: nothing of it may stay
	ctx := buildContext(t, map[string]string{
		"Dockerfile": "FROM busybox\nRUN echo started; exec sleep 7777\n",
	})
	cmd := s.command(nil, "build", ctx)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	sc := bufio.NewScanner(out)
	for sc.Scan() && sc.Text() != "started" {
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if len(processesMentioning("sleep 7777")) == 0 {
		t.Log("the step's container died with the build")
	}
	// The next build finds the dead build's step and removes it.
	s.ok(strings.NewReader("FROM busybox\nENV A=b\n"), "build", "-")
	if procs := processesMentioning("sleep 7777"); len(procs) > 0 {
		t.Errorf("the killed build's container still runs: %v", procs)
	}
	s.assertClean(t)
	if rws, _ := filepath.Glob(filepath.Join(s.root, "layers", "*", "rw", "*")); len(rws) > 0 {
		t.Errorf("writable layers left: %v", rws)
	}
	assertNoBuildLeftovers(t, s)
	if cg, _ := filepath.Glob("/sys/fs/cgroup/*/strata/build-*"); len(cg) > 0 {
		t.Errorf("cgroups left: %v", cg)
	}
}

// assertNoBuildLeftovers fails if run/build holds more than builds.lock:
// a step's bundle or lock, an unpacked context, a download.
func assertNoBuildLeftovers(t *testing.T, s *store) {
	t.Helper()
	ents, _ := os.ReadDir(filepath.Join(s.root, "run", "build"))
	for _, e := range ents {
		if e.Name() != "builds.lock" {
			t.Errorf("run/build holds %s", e.Name())
		}
	}
}
