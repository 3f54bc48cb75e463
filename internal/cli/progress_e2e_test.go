package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	treg "github.com/strata-containers/strata/internal/testutil/registry"
)

// openPTY opens a pseudo-terminal pair of the given size; both ends are
// closed when the test ends.
func openPTY(t *testing.T, cols, rows uint16) (ptm, pts *os.File) {
	t.Helper()
	ptm, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("needs a pseudo-terminal (/dev/ptmx): %v", err)
	}
	t.Cleanup(func() { ptm.Close() })
	fd := int(ptm.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatalf("unlocking the pty: %v", err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		t.Fatalf("pty number: %v", err)
	}
	pts, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pts.Close() })
	if err := unix.IoctlSetWinsize(int(pts.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Col: cols, Row: rows}); err != nil {
		t.Fatalf("setting the pty's size: %v", err)
	}
	return ptm, pts
}

// tty runs strata with its stdout on a terminal cols wide and returns
// what it wrote there (stderr is kept apart, for failures).
func (s *regStore) tty(cols uint16, args ...string) []byte {
	s.t.Helper()
	ptm, pts := openPTY(s.t, cols, 40)
	cmd := s.command(strings.NewReader(""), args...)
	cmd.Env = append(cmd.Env, s.env...)
	var errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = pts, &errb
	if err := cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	// Only the child holds the terminal now: the master reads EIO once it
	// exits, after everything it wrote.
	pts.Close()
	out, err := io.ReadAll(ptm)
	if err != nil && !errors.Is(err, syscall.EIO) {
		s.t.Fatalf("reading the pty: %v", err)
	}
	if err := cmd.Wait(); err != nil {
		s.t.Fatalf("strata %v: %v\nterminal: %q\nstderr: %s", args, err, out, errb.String())
	}
	return out
}

func TestRegistryProgressBarsOnTerminal(t *testing.T) {
	r := treg.Start(t, treg.HTTP)
	s := newRegStore(t)
	name := r.Host + "/e2e/tty:v1"
	layers := [][]byte{
		layerTar(t, map[string][]byte{"etc/hello": []byte("hello\n")}),
		layerTar(t, map[string][]byte{"data/blob": randomBytes(7, 4<<20)}),
	}
	s.ok("", "load", "-i", writeFile(t, "tty.tar", dockerArchive(t, testImage{tags: []string{name}, layers: layers})))
	const cols = 100

	raw := s.tty(cols, "push", name)
	screen := strings.Join(render(t, raw, cols), "\n")
	want := []string{"The push refers to repository [" + r.Host + "/e2e/tty]"}
	for _, l := range layers {
		want = append(want, sha(l)[:12]+": Pushed")
	}
	m := pushedLine.FindStringSubmatch(screen)
	if m == nil {
		t.Fatalf("no digest line on the push screen:\n%s", screen)
	}
	checkScreen(t, "push", raw, screen, want)

	dst := newRegStore(t)
	raw = dst.tty(cols, "pull", name)
	screen = strings.Join(render(t, raw, cols), "\n")
	want = []string{"v1: Pulling from e2e/tty", "Digest: " + m[1], "Status: Downloaded newer image for " + name, name}
	for _, l := range layers {
		want = append(want, sha(l)[:12]+": Pull complete")
	}
	checkScreen(t, "pull", raw, screen, want)
	if strings.Contains(screen, "Pulling fs layer") || strings.Contains(screen, "Downloading") {
		t.Errorf("a layer's line was not rewritten to its last step:\n%s", screen)
	}

	if got := render(t, dst.tty(cols, "pull", "-q", name), cols); strings.Join(got, "\n") != name+"\n" {
		t.Errorf("pull -q on a terminal showed %q, want only the reference", got)
	}
}

// checkScreen asserts that the command drew with cursor movement (the
// terminal path, not the plain lines) and that each of want is a line of
// the final screen.
func checkScreen(t *testing.T, what string, raw []byte, screen string, want []string) {
	t.Helper()
	if !bytes.Contains(raw, []byte("\x1b[")) {
		t.Errorf("%s on a terminal drew no ANSI sequences: %q", what, raw)
	}
	lines := strings.Split(screen, "\n")
	for _, w := range want {
		found := false
		for _, l := range lines {
			found = found || l == w
		}
		if !found {
			t.Errorf("%s screen lacks the line %q:\n%s", what, w, screen)
		}
	}
}
