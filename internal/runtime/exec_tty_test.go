package runtime

import (
	"bufio"
	"context"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// TestExecTerminal: with process.terminal the process gets a pty of the
// container's devpts as its controlling terminal, and a size set on the
// master is what stty reads.
func TestExecTerminal(t *testing.T) {
	rt := newRuntime(t)
	id, spec := startSleeper(t, rt, nil)
	proc := shell(spec, "tty; test -t 0 && echo stdin-tty; stty size; read x; stty size")
	proc.Terminal = true
	proc.ConsoleSize = &specs.Box{Height: 24, Width: 80}
	ctx := context.Background()
	p, err := rt.Exec(ctx, id, proc, ExecOpts{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Signal(unix.SIGKILL); p.Wait(ctx); p.Close() })
	if p.Console == nil {
		t.Fatal("no console with process.terminal")
	}
	// No deadline: a hung shell fails the test by the test's own timeout.
	out := bufio.NewReader(p.Console)
	want := []string{"/dev/pts/0", "stdin-tty", "24 80"}
	for _, w := range want {
		line, err := out.ReadString('\n')
		if err != nil {
			t.Fatalf("reading terminal: %v", err)
		}
		if got := strings.TrimSpace(line); got != w {
			t.Fatalf("terminal says %q, want %q", got, w)
		}
	}
	if err := unix.IoctlSetWinsize(int(p.Console.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 40, Col: 100}); err != nil {
		t.Fatal(err)
	}
	p.Console.Write([]byte("go\n"))
	var rest []string
	for {
		line, err := out.ReadString('\n')
		if line = strings.TrimSpace(line); line != "" {
			rest = append(rest, line)
		}
		if err != nil || line == "40 100" {
			break
		}
	}
	if len(rest) == 0 || rest[len(rest)-1] != "40 100" {
		t.Fatalf("after a resize the terminal says %q, want a last line 40 100", rest)
	}
	if code, err := p.Wait(ctx); err != nil || code != 0 {
		t.Fatalf("exit %d, %v", code, err)
	}
}
