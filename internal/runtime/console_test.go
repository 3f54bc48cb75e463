package runtime

import (
	"bytes"
	"context"
	"io"
	"os"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/strata-containers/strata/internal/errdefs"
)

// TestTerminal runs a workload on a terminal and checks, through the
// master it got over the console socket, that the workload's stdio is a
// pty of the container's own devpts, its controlling terminal, sized as
// the spec asks.
func TestTerminal(t *testing.T) {
	bundle, spec := newBundle(t, "sh", "-c", "tty; stty size; ls -l /proc/self/fd/0; test -t 0 && echo ctty-ok </dev/tty")
	spec.Process.Terminal = true
	spec.Process.ConsoleSize = &specs.Box{Height: 30, Width: 100}
	writeSpec(t, bundle, spec)
	rt := newRuntime(t)
	id := newID(t)
	forceDelete(t, rt, id)
	ours, theirs := consolePair(t)
	ctx := context.Background()
	if err := rt.Create(ctx, id, bundle, CreateOpts{ConsoleSocket: theirs}); err != nil {
		t.Fatalf("create: %v", err)
	}
	theirs.Close()
	master, err := RecvConsole(ours)
	if err != nil {
		t.Fatal(err)
	}
	defer master.Close()
	var out bytes.Buffer
	copied := make(chan struct{})
	go func() {
		// The master reads EIO once the last slave is closed.
		_, _ = io.Copy(&out, master)
		close(copied)
	}()
	if err := rt.Start(ctx, id); err != nil {
		t.Fatalf("start: %v", err)
	}
	if code, err := rt.Wait(ctx, id); err != nil || code != 0 {
		t.Fatalf("wait: %d, %v", code, err)
	}
	<-copied
	got := strings.ReplaceAll(out.String(), "\r\n", "\n")
	for _, want := range []string{"/dev/pts/0\n", "30 100\n", "ctty-ok\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("terminal output %q lacks %q", got, want)
		}
	}
}

func TestTerminalNeedsSocket(t *testing.T) {
	bundle, spec := newBundle(t, "true")
	spec.Process.Terminal = true
	writeSpec(t, bundle, spec)
	rt := newRuntime(t)
	err := rt.Create(context.Background(), newID(t), bundle, CreateOpts{})
	if !errdefs.IsInvalid(err) {
		t.Fatalf("create without console socket: %v, want invalid", err)
	}
}

func consolePair(t *testing.T) (ours, theirs *os.File) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	ours, theirs = os.NewFile(uintptr(fds[0]), "console"), os.NewFile(uintptr(fds[1]), "console-init")
	t.Cleanup(func() { ours.Close(); theirs.Close() })
	return ours, theirs
}
