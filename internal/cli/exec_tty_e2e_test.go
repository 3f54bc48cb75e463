package cli

import (
	"bufio"
	"os"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// openPty opens a pseudo-terminal pair of the host's devpts, closed when
// the test ends.
func openPty(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Skipf("needs /dev/ptmx: %v", err)
	}
	master = os.NewFile(uintptr(m), "ptmx")
	t.Cleanup(func() { master.Close() })
	if err := unix.IoctlSetPointerInt(m, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	s, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(m), unix.TIOCGPTPEER, unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC)
	if errno != 0 {
		t.Fatal(errno)
	}
	slave = os.NewFile(s, "pts")
	t.Cleanup(func() { slave.Close() })
	return master, slave
}

// TestE2EExecTerminal runs `strata exec -it` as a person would, on a
// terminal: the CLI's terminal goes raw and comes back as it was, and a
// window size change reaches the process.
func TestE2EExecTerminal(t *testing.T) {
	s := newContainerStore(t)
	s.ok(nil, "run", "-d", "--name", "box", "busybox", "sleep", "1000")
	master, slave := openPty(t)
	if err := unix.IoctlSetWinsize(int(master.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 24, Col: 80}); err != nil {
		t.Fatal(err)
	}
	before, err := unix.IoctlGetTermios(int(slave.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	cmd := s.command(nil, "exec", "-it", "box", "sh", "-c", "stty size; while read x; do stty size; done")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	out := bufio.NewReader(master)
	waitLine := func(want string) {
		t.Helper()
		for {
			line, err := out.ReadString('\n')
			if err != nil {
				t.Fatalf("reading the terminal, waiting for %q: %v", want, err)
			}
			if strings.TrimSpace(line) == want {
				return
			}
		}
	}
	waitLine("24 80")
	raw, err := unix.IoctlGetTermios(int(slave.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	if raw.Lflag&(unix.ECHO|unix.ICANON) != 0 {
		t.Errorf("the CLI's terminal is not raw while exec runs: lflag %#x", raw.Lflag)
	}
	if err := unix.IoctlSetWinsize(int(master.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 40, Col: 100}); err != nil {
		t.Fatal(err)
	}
	// The resize travels by SIGWINCH, asynchronously: ask until it is seen.
	for {
		master.Write([]byte("again\r"))
		line, err := out.ReadString('\n')
		if err != nil {
			t.Fatalf("reading the terminal: %v", err)
		}
		if strings.TrimSpace(line) == "40 100" {
			break
		}
	}
	master.Write([]byte{4}) // ^D: end of input, the loop ends
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exec -it: %v", err)
	}
	after, err := unix.IoctlGetTermios(int(slave.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	if *after != *before {
		t.Errorf("the terminal was not restored: %+v, was %+v", *after, *before)
	}
}
