package cli

import (
	"strings"
	"testing"
)

// TestE2EExecDetachKeys is `exec -it` on a real terminal: ctrl-p ctrl-q
// detaches the client with status 0 and the exec'd process goes on
// running (it still writes a file after the client is gone); a custom
// --detach-keys works and a bad one is refused.
func TestE2EExecDetachKeys(t *testing.T) {
	s := newContainerStore(t)
	s.ok(nil, "run", "-d", "--name", "box", "busybox", "sleep", "1000")
	t.Cleanup(func() { s.run(nil, "rm", "-f", "box") })
	term := s.startOnTerminal(24, 80, "exec", "-it", "box", "sh")
	term.expect("# ")
	term.typeText("echo ready-$((2*3))\r")
	term.expect("ready-6")
	term.typeText("\x10\x11") // ctrl-p ctrl-q
	if code := term.exitCode(); code != 0 {
		t.Fatalf("detach: exit %d", code)
	}
	// The detached shell lives on in the container.
	waitFor(t, "the detached exec shell to run on", func() bool {
		return strings.Contains(s.ok(nil, "exec", "box", "ps", "-o", "comm"), "sh")
	})

	keys := s.startOnTerminal(24, 80, "exec", "-it", "--detach-keys", "ctrl-a,x", "box",
		"sh", "-c", "echo go; sleep 2; touch /after-detach; sleep 1000")
	keys.expect("go")
	keys.typeText("\x01x")
	if code := keys.exitCode(); code != 0 {
		t.Fatalf("detach with ctrl-a,x: exit %d", code)
	}
	waitFor(t, "the detached process to write /after-detach", func() bool {
		return s.run(nil, "exec", "box", "test", "-e", "/after-detach").code == 0
	})
	if r := s.run(nil, "exec", "-it", "--detach-keys", "ctrl-1", "box", "true"); r.code != 1 || !strings.Contains(r.stderr, "invalid detach keys") {
		t.Errorf("bad --detach-keys: exit %d, %q", r.code, r.stderr)
	}
}
