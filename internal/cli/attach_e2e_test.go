package cli

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// terminal is a pty whose slave is a strata command's controlling
// terminal, as a person's would be; the test types into the master.
type terminal struct {
	t      *testing.T
	master *os.File
	cmd    *exec.Cmd
	mu     sync.Mutex
	out    bytes.Buffer
	done   chan struct{}
}

// startOnTerminal runs strata args on a new terminal of rows x cols.
func (s *store) startOnTerminal(rows, cols uint16, args ...string) *terminal {
	t := s.t
	t.Helper()
	master, slave := openPTY(t, cols, rows) // progress_e2e_test.go
	cmd := s.command(nil, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	slave.Close()
	term := &terminal{t: t, master: master, cmd: cmd, done: make(chan struct{})}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			term.mu.Lock()
			term.out.Write(buf[:n])
			term.mu.Unlock()
			if err != nil {
				close(term.done)
				return
			}
		}
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return term
}

func setSize(t *testing.T, f *os.File, rows, cols uint16) {
	t.Helper()
	if err := unix.IoctlSetWinsize(int(f.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: rows, Col: cols}); err != nil {
		t.Fatal(err)
	}
}

// typeText types text as a person does.
func (term *terminal) typeText(text string) {
	term.t.Helper()
	if _, err := term.master.Write([]byte(text)); err != nil {
		term.t.Fatal(err)
	}
}

// expect waits until the screen shows want, after what an earlier
// expect consumed.
func (term *terminal) expect(want string) {
	term.t.Helper()
	waitFor(term.t, "terminal output "+strconv.Quote(want), func() bool {
		term.mu.Lock()
		defer term.mu.Unlock()
		i := strings.Index(term.out.String(), want)
		if i < 0 {
			return false
		}
		term.out.Next(i + len(want))
		return true
	})
}

// retypeUntil types text until the screen shows want: for what races
// with typing, such as a resize (SIGWINCH to the CLI) that has to reach
// the container before the command that reports the size runs.
func (term *terminal) retypeUntil(text, want string) {
	term.t.Helper()
	for range 60 {
		term.typeText(text)
		for range 25 {
			term.mu.Lock()
			i := strings.Index(term.out.String(), want)
			if i >= 0 {
				term.out.Next(i + len(want))
			}
			term.mu.Unlock()
			if i >= 0 {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	term.t.Fatalf("gave up typing %q until the terminal shows %q", text, want)
}

// exitCode waits for the strata command to end.
func (term *terminal) exitCode() int {
	term.t.Helper()
	err := term.cmd.Wait()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode()
	}
	if err != nil {
		term.t.Fatal(err)
	}
	return 0
}

// status is "<status> <exit code> <restart count>", or "" if there is
// no such container (yet).
func (s *store) status(ref string) string {
	return strings.TrimSpace(s.run(nil, "inspect", "-f", "{{.State.Status}} {{.State.ExitCode}} {{.RestartCount}}", ref).stdout)
}

// TestE2ERunInteractiveTerminal is `run -it busybox sh` as a person uses
// it: type, see the output on a real pty, resize, detach with ctrl-p
// ctrl-q, attach again, exit with a code.
func TestE2ERunInteractiveTerminal(t *testing.T) {
	s := newContainerStore(t)
	term := s.startOnTerminal(40, 120, "run", "-it", "--name", "shell", "busybox", "sh")
	term.expect("/ # ")
	term.typeText("echo hi; tty; stty size\r")
	term.expect("hi\r\n/dev/pts/0\r\n40 120\r\n")
	setSize(t, term.master, 33, 99)
	_ = term.cmd.Process.Signal(unix.SIGWINCH)
	term.retypeUntil("stty size\r", "33 99\r\n")
	term.typeText("\x10\x11") // ctrl-p ctrl-q
	if code := term.exitCode(); code != 0 {
		t.Fatalf("detach: exit %d", code)
	}
	if st := s.status("shell"); st != "running 0 0" {
		t.Fatalf("after detach: %s", st)
	}
	again := s.startOnTerminal(24, 80, "attach", "shell")
	again.typeText("echo again-$((6*7))\r")
	again.expect("again-42")
	again.typeText("exit 7\r")
	if code := again.exitCode(); code != 7 {
		t.Fatalf("attach ended with %d, want the container's 7", code)
	}
	if st := s.status("shell"); st != "exited 7 0" {
		t.Fatalf("after exit: %s", st)
	}
	if got := s.ok(nil, "inspect", "-f", "{{.Config.Tty}} {{.Config.OpenStdin}}", "shell"); got != "true true\n" {
		t.Errorf("inspect Config.Tty, OpenStdin: %q", got)
	}
}

// TestE2EDetachKeys checks --detach-keys, and that bytes that only begin
// the sequence reach the container.
func TestE2EDetachKeys(t *testing.T) {
	s := newContainerStore(t)
	term := s.startOnTerminal(24, 80, "run", "-it", "--detach-keys", "ctrl-a,x", "--name", "keys", "busybox", "sh")
	term.expect("/ # ")
	term.typeText("echo a\x01b\r") // ctrl-a not followed by x is typed
	term.typeText("echo typed-$((1+1))\r")
	term.expect("typed-2")
	term.typeText("\x01x")
	if code := term.exitCode(); code != 0 {
		t.Fatalf("detach: exit %d", code)
	}
	if st := s.status("keys"); st != "running 0 0" {
		t.Fatalf("after detach: %s", st)
	}
	if got := s.run(nil, "run", "-i", "--detach-keys", "ctrl-1", "busybox", "true"); got.code != 125 || !strings.Contains(got.stderr, "invalid detach keys") {
		t.Errorf("bad --detach-keys: exit %d, %q", got.code, got.stderr)
	}
}

// TestE2ERunInteractivePipe is `echo abc | strata run -i busybox cat`:
// stdin is piped and closed at its end, so cat ends.
func TestE2ERunInteractivePipe(t *testing.T) {
	s := newContainerStore(t)
	if got := s.ok(strings.NewReader("abc\n"), "run", "--rm", "-i", "busybox", "cat"); got != "abc\n" {
		t.Fatalf("run -i cat printed %q", got)
	}
	if r := s.run(strings.NewReader(""), "run", "-it", "--name", "notty", "busybox", "true"); r.code != 1 || r.stderr != "the input device is not a TTY\n" {
		t.Errorf("run -it without a terminal: exit %d, %q", r.code, r.stderr)
	}
	if s.status("notty") != "" {
		t.Error("run -it without a terminal created a container")
	}
	r := s.run(strings.NewReader("x\n"), "run", "-i", "busybox", "sh", "-c", "read v; echo got-$v; echo err >&2; exit 4")
	if r.code != 4 || r.stdout != "got-x\n" || r.stderr != "err\n" {
		t.Fatalf("run -i: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}

// TestE2ERunSigProxy sends ^C (SIGINT) to a foreground `run`: it reaches
// the container, which ends, and so does run.
func TestE2ERunSigProxy(t *testing.T) {
	s := newContainerStore(t)
	for _, tc := range []struct {
		name, cmd string
		code      int
	}{
		// sleep, as pid 1, has no handler: the kernel would drop the
		// signal, so the container is killed as another process would be.
		{"sleep", "sleep 100", 137},
		{"trap", "trap 'echo got-int; exit 130' INT; echo ready; while true; do sleep 0.1; done", 130},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			cmd := s.command(nil, "run", "--name", tc.name, "busybox", "sh", "-c", "exec "+tc.cmd)
			if tc.name == "trap" {
				cmd = s.command(nil, "run", "--name", tc.name, "busybox", "sh", "-c", tc.cmd)
			}
			cmd.Stdout = &out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
			waitFor(t, "the container to run", func() bool {
				return strings.HasPrefix(s.status(tc.name), "running") && (tc.name != "trap" || strings.Contains(s.run(nil, "logs", tc.name).stdout, "ready"))
			})
			_ = cmd.Process.Signal(unix.SIGINT)
			err := cmd.Wait()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != tc.code {
				t.Fatalf("run after ^C: %v, want exit %d", err, tc.code)
			}
			if st := s.status(tc.name); st != "exited "+strconv.Itoa(tc.code)+" 0" {
				t.Errorf("container after ^C: %s", st)
			}
		})
	}
}

// TestE2EStartAttachInteractive is `create -i` then `start -ai` with a
// piped stdin, and `attach` to a container that is not running.
func TestE2EStartAttachInteractive(t *testing.T) {
	s := newContainerStore(t)
	s.ok(nil, "create", "-i", "--name", "catty", "busybox", "sh", "-c", "cat; exit 5")
	r := s.run(strings.NewReader("piped\n"), "start", "-ai", "catty")
	if r.code != 5 || r.stdout != "piped\n" {
		t.Fatalf("start -ai: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if r := s.run(nil, "attach", "catty"); r.code == 0 || !strings.Contains(r.stderr, "cannot attach to a stopped container") {
		t.Errorf("attach to a stopped container: exit %d, %q", r.code, r.stderr)
	}
}
