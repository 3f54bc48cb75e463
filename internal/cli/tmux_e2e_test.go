package cli

import (
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
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
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("screen:\n%s", ts.screen())
		}
		_ = exec.Command("tmux", "-S", ts.socket, "kill-server").Run()
	})
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
	ts.waitFor("the screen to show "+strconv.Quote(want), func() bool { return strings.Contains(ts.screen(), want) })
}

// settle waits until the screen stays the same for a moment.
func (ts *tmuxSession) settle() {
	prev := ts.screen()
	ts.waitFor("the screen to settle", func() bool {
		time.Sleep(200 * time.Millisecond)
		cur := ts.screen()
		same := cur == prev
		prev = cur
		return same
	})
}

// waitFor is waitFor (the session's cleanup shows the screen when it
// gave up).
func (ts *tmuxSession) waitFor(what string, cond func() bool) {
	ts.t.Helper()
	waitFor(ts.t, what, cond)
}

// reported wraps a command so that the pane shows its exit status at its
// end: tmux's own pane_dead_status is sometimes never filled in.
func reported(command string) string { return "sh -c '" + command + "; echo strata-exit=$?'" }

// waitExit waits for the pane's command to end and returns its status.
func (ts *tmuxSession) waitExit() string {
	ts.t.Helper()
	var status string
	ts.waitFor("the command to end", func() bool {
		_, after, ok := strings.Cut(ts.screen(), "strata-exit=")
		status, _, _ = strings.Cut(after, "\n")
		return ok && status != ""
	})
	return status
}

// TestE2ETmuxInteractive types into `strata run -it` in tmux as a person
// would: a command, a window resize, the detach keys; then attaches again
// in a second window and exits the shell.
func TestE2ETmuxInteractive(t *testing.T) {
	s := newContainerStore(t)
	strata := s.bin + " --root " + s.root + " --runroot " + filepath.Join(s.root, "run")
	ts := newTmux(t, reported(strata+" run -it --name tmuxed busybox sh"))
	ts.waitScreen("/ #") // capture-pane trims trailing blanks
	ts.keys("echo hello-$((40+2)); stty size", "Enter")
	ts.waitScreen("hello-42")
	ts.waitScreen("30 100")
	ts.tmux("resize-window", "-t", ts.name, "-x", "90", "-y", "25")
	// The resize reaches the container through the CLI's SIGWINCH, which
	// races with the typing: type again until the new size shows.
	retyped := 0
	waitFor(t, "the new size", func() bool {
		if retyped%25 == 0 {
			ts.keys("clear; stty size", "Enter")
		}
		retyped++
		return strings.Contains(ts.screen(), "25 90")
	})
	// The shell's prompt asks the terminal for the cursor position, and
	// tmux types the answer into the pane: a person's keys never land
	// between it and the detach keys, a test's may. Let the screen settle.
	ts.keys("echo sync-$((3+3))", "Enter")
	ts.waitScreen("sync-6")
	ts.settle()
	ts.keys("C-p", "C-q")
	if status := ts.waitExit(); status != "0" {
		t.Fatalf("run -it ended with %q after the detach keys, want 0", status)
	}
	if st := s.status("tmuxed"); st != "running 0 0" {
		t.Fatalf("after detach: %s", st)
	}
	ts.tmux("respawn-pane", "-k", "-t", ts.name, reported(strata+" attach tmuxed"))
	ts.keys("echo back-$((1+2))", "Enter")
	ts.waitScreen("back-3")
	ts.keys("exit 3", "Enter")
	if status := ts.waitExit(); status != "3" {
		t.Errorf("attach ended with %q, want the shell's 3", status)
	}
}
