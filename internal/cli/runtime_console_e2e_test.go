package cli

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	ociruntime "github.com/strata-containers/strata/internal/runtime"
)

// TestRuntimeCLIConsoleSocket is `runtime create --console-socket` as
// runc's callers use it: the pty master arrives on the socket, and the
// workload, started by another process, runs on its slave.
func TestRuntimeCLIConsoleSocket(t *testing.T) {
	o := newOCICLI(t)
	id := "console-" + strconv.Itoa(os.Getpid())
	bundle := newOCIBundle(t, id, "sh", "-c", "tty; echo done")
	setTerminal(t, bundle)
	sockPath := filepath.Join(t.TempDir(), "console.sock")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: sockPath, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	masters := make(chan *os.File, 1)
	go func() {
		conn, err := l.AcceptUnix()
		if err != nil {
			masters <- nil
			return
		}
		defer conn.Close()
		f, _ := conn.File()
		defer f.Close()
		m, err := ociruntime.RecvConsole(f)
		if err != nil {
			t.Error(err)
		}
		masters <- m
	}()
	t.Cleanup(func() { o.run(nil, "delete", "--force", id) })
	o.ok("create", "--console-socket", sockPath, "--bundle", bundle, id)
	master := <-masters
	if master == nil {
		t.Fatal("no pty master came over the console socket")
	}
	defer master.Close()
	o.ok("start", id)
	var out bytes.Buffer
	_, _ = io.Copy(&out, master) // EIO once the workload's end closed the slave
	if got := strings.ReplaceAll(out.String(), "\r\n", "\n"); got != "/dev/pts/0\ndone\n" {
		t.Errorf("terminal showed %q", got)
	}
	o.waitStopped(id)
}

func setTerminal(t *testing.T, bundle string) {
	t.Helper()
	path := filepath.Join(bundle, "config.json")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var s specs.Spec
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatal(err)
	}
	s.Process.Terminal = true
	if data, err = json.Marshal(&s); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
