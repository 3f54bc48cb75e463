package cli

import (
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// tmuxSession drives a tmux session on its own server socket, as a person
// at a terminal: keys in, the screen out.
type tmuxSession struct {
	t      *testing.T
	socket string
	name   string
}

func newTmux(t *testing.T, command string) *tmuxSession {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("needs tmux")
	}
	ts := &tmuxSession{t: t, socket: filepath.Join(t.TempDir(), "tmux.sock"), name: "strata"}
	ts.tmux("new-session", "-d", "-s", ts.name, "-x", "100", "-y", "30", command)
	ts.tmux("set-option", "-t", ts.name, "remain-on-exit", "on")
	t.Cleanup(func() { _ = exec.Command("tmux", "-S", ts.socket, "kill-server").Run() })
	return ts
}

func (ts *tmuxSession) tmux(args ...string) string {
	ts.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-S", ts.socket}, args...)...).CombinedOutput()
	if err != nil {
		ts.t.Fatalf("tmux %v: %v: %s", args, err, out)
	}
	return string(out)
}

// keys types keys (tmux key names, such as Enter or C-p) into the pane.
func (ts *tmuxSession) keys(keys ...string) {
	ts.tmux(append([]string{"send-keys", "-t", ts.name}, keys...)...)
}

// screen is what the pane shows.
func (ts *tmuxSession) screen() string { return ts.tmux("capture-pane", "-p", "-t", ts.name) }

func (ts *tmuxSession) waitScreen(want string) {
	ts.t.Helper()
	waitFor(ts.t, "the screen to show "+strconv.Quote(want), func() bool { return strings.Contains(ts.screen(), want) })
}

// paneDead reports whether the command in the pane ended, and its status.
func (ts *tmuxSession) paneDead() (bool, string) {
	out := strings.Fields(ts.tmux("display-message", "-p", "-t", ts.name, "#{pane_dead} #{pane_dead_status}"))
	if len(out) < 1 || out[0] != "1" {
		return false, ""
	}
	if len(out) < 2 {
		return true, ""
	}
	return true, out[1]
}

// TestE2ETmuxInteractive types into `strata run -it` in tmux as a person
// would: a command, a window resize, the detach keys; then attaches again
// in a second window and exits the shell.
func TestE2ETmuxInteractive(t *testing.T) {
	s := newContainerStore(t)
	strata := s.bin + " --root " + s.root + " --runroot " + filepath.Join(s.root, "run")
	ts := newTmux(t, strata+" run -it --name tmuxed busybox sh")
	ts.waitScreen("/ #") // capture-pane trims trailing blanks
	ts.keys("echo hello-$((40+2)); stty size", "Enter")
	ts.waitScreen("hello-42")
	ts.waitScreen("30 100")
	ts.tmux("resize-window", "-t", ts.name, "-x", "90", "-y", "25")
	ts.keys("clear; stty size", "Enter")
	ts.waitScreen("25 90")
	ts.keys("C-p", "C-q")
	waitFor(t, "run -it to detach", func() bool { dead, _ := ts.paneDead(); return dead })
	if _, status := ts.paneDead(); status != "0" {
		t.Fatalf("run -it ended with %q after the detach keys, want 0", status)
	}
	if st := s.status("tmuxed"); st != "running 0 0" {
		t.Fatalf("after detach: %s", st)
	}
	ts.tmux("respawn-pane", "-k", "-t", ts.name, strata+" attach tmuxed")
	ts.keys("echo back-$((1+2))", "Enter")
	ts.waitScreen("back-3")
	ts.keys("exit 3", "Enter")
	waitFor(t, "attach to end", func() bool { dead, _ := ts.paneDead(); return dead })
	if _, status := ts.paneDead(); status != "3" {
		t.Errorf("attach ended with %q, want the shell's 3", status)
	}
}
