package cli

import (
	"strings"
	"testing"
)

// TestE2ESystemPrune: docker's `system prune` removes stopped containers,
// then the user networks no container uses, then (with --volumes) the
// anonymous volumes left unused, then dangling images; a running container,
// its network and its volume stay.
func TestE2ESystemPrune(t *testing.T) {
	s := newNetworkStore(t)
	s.ok(nil, "network", "create", "idle")
	s.ok(nil, "network", "create", "busy")
	stopped := strings.TrimSpace(s.ok(nil, "run", "-d", "-v", "/gone", "busybox", "true"))
	s.ok(nil, "wait", stopped)
	running := strings.TrimSpace(s.ok(nil, "run", "-d", "--network", "busy", "-v", "/kept", "busybox", "sleep", "60"))

	r := s.run(strings.NewReader("n\n"), "system", "prune", "--volumes")
	if !strings.Contains(r.stdout, "  - all stopped containers\n") || !strings.Contains(r.stdout, "  - all anonymous volumes not used by at least one container\n") {
		t.Fatalf("warning: %q", r.stdout)
	}
	if ids := s.ok(nil, "ps", "-aq"); len(lines(ids)) != 2 {
		t.Fatalf("a declined prune removed containers: %q", ids)
	}

	out := s.ok(nil, "system", "prune", "-f", "--volumes")
	for _, want := range []string{"Deleted Containers:\n" + stopped + "\n", "Deleted Networks:\nidle\n", "Deleted Volumes:\n", "Total reclaimed space: "} {
		if !strings.Contains(out, want) {
			t.Errorf("system prune output lacks %q:\n%s", want, out)
		}
	}
	if ids := s.ok(nil, "ps", "-aq", "--no-trunc"); strings.TrimSpace(ids) != running {
		t.Errorf("containers after the prune: %q, want only the running %s", ids, running)
	}
	if nets := s.ok(nil, "network", "ls", "--format", "{{.Name}}"); strings.Contains(nets, "idle") || !strings.Contains(nets, "busy") {
		t.Errorf("networks after the prune:\n%s", nets)
	}
	if vols := lines(s.ok(nil, "volume", "ls", "-q")); len(vols) != 1 {
		t.Errorf("volumes after the prune: %v, want the running container's alone", vols)
	}
}
