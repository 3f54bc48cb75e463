package monitor

import (
	"bytes"
	"context"
	"io"
	"os"
	"testing"
	"time"

	"github.com/strata-containers/strata/internal/errdefs"
)

// TestAttachHub connects clients to a hub over its real socket: output
// reaches every client, stdin from one reaches the container's stdin, the
// end of a client's stdin closes it (StdinOnce), and the exit code ends
// the attach.
func TestAttachHub(t *testing.T) {
	bundle := t.TempDir()
	if _, err := Dial(context.Background(), bundle); !errdefs.IsConflict(err) {
		t.Fatalf("Dial without a monitor: %v, want conflict", err)
	}
	h, err := listen(Config{Bundle: bundle, OpenStdin: true, StdinOnce: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.close)
	stdinR, stdinW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdinR.Close() })
	h.setStdin(stdinW, nil)
	ctx := context.Background()
	a, err := Dial(ctx, bundle)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Dial(ctx, bundle)
	if err != nil {
		t.Fatal(err)
	}
	waitClients(t, h, 2)
	if _, err := a.Write([]byte("typed")); err != nil {
		t.Fatal(err)
	}
	if err := a.CloseStdin(); err != nil {
		t.Fatal(err)
	}
	if in, _ := io.ReadAll(stdinR); string(in) != "typed" {
		t.Errorf("container's stdin read %q", in)
	}
	h.broadcast(frameStdout, []byte("out "))
	h.broadcast(frameStderr, []byte("err"))
	h.exited(42)
	for name, c := range map[string]*Conn{"a": a, "b": b} {
		var out, errb bytes.Buffer
		code, exited, err := c.Copy(&out, &errb)
		if err != nil || !exited || code != 42 || out.String() != "out " || errb.String() != "err" {
			t.Errorf("client %s: %d %v %v, stdout %q stderr %q", name, code, exited, err, out.String(), errb.String())
		}
		c.Close()
	}
}

func waitClients(t *testing.T, h *hub, n int) {
	t.Helper()
	<-h.attached
	for {
		h.mu.Lock()
		got := len(h.clients)
		h.mu.Unlock()
		if got >= n {
			return
		}
		time.Sleep(time.Millisecond) // the hub registers clients as it accepts them
	}
}
