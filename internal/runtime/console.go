package runtime

import (
	"errors"
	"fmt"
	"os"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/strata-containers/strata/internal/errdefs"
)

// Terminals (process.terminal), as OCI's console socket has them: the
// init opens a pseudo-terminal in the container's own devpts instance
// (after pivot_root, so that the slave is /dev/pts/0 inside and `tty`
// names it), makes the slave its stdio and controlling terminal, and
// sends the master over CreateOpts.ConsoleSocket (SCM_RIGHTS); the caller
// (the monitor, or whoever listens on `runtime create --console-socket`)
// holds the master from then on. The init inherits the socket as the fd
// after the sealed executable (consoleFd).

// consoleFd is the init's fd of the console socket, relative to base.
func consoleFd(base int) int { return base + 3 }

// checkConsole refuses a terminal without a socket to send it over, and
// a socket without a terminal, before anything starts.
func checkConsole(spec *specs.Spec, opts CreateOpts) error {
	switch {
	case spec.Process.Terminal && opts.ConsoleSocket == nil:
		return errdefs.Invalid("process.terminal is set but no console socket was given")
	case !spec.Process.Terminal && opts.ConsoleSocket != nil:
		return errdefs.Invalid("a console socket was given but process.terminal is not set")
	}
	return nil
}

// setupConsole runs in the init after pivot_root and before the user
// changes: it opens the pty, hands the slave to the workload's user,
// makes it stdio and the controlling terminal, bind-mounts it on
// /dev/console and sends the master to the runtime's caller.
func setupConsole(base int, proc *specs.Process) error {
	master, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("opening /dev/ptmx: %w", err)
	}
	defer unix.Close(master)
	if err := unix.IoctlSetPointerInt(master, unix.TIOCSPTLCK, 0); err != nil {
		return fmt.Errorf("unlocking pty: %w", err)
	}
	n, err := unix.IoctlGetUint32(master, unix.TIOCGPTN)
	if err != nil {
		return fmt.Errorf("reading pty number: %w", err)
	}
	name := "/dev/pts/" + strconv.FormatUint(uint64(n), 10)
	slave, err := unix.Open(name, unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("opening %s: %w", name, err)
	}
	defer unix.Close(slave)
	if err := unix.Fchown(slave, int(proc.User.UID), -1); err != nil {
		return fmt.Errorf("handing %s to uid %d: %w", name, proc.User.UID, err)
	}
	if sz := proc.ConsoleSize; sz != nil {
		ws := &unix.Winsize{Row: uint16(sz.Height), Col: uint16(sz.Width)}
		if err := unix.IoctlSetWinsize(master, unix.TIOCSWINSZ, ws); err != nil {
			return fmt.Errorf("sizing pty: %w", err)
		}
	}
	if err := bindConsole(name); err != nil {
		return err
	}
	for fd := 0; fd < 3; fd++ {
		if err := unix.Dup3(slave, fd, 0); err != nil {
			return fmt.Errorf("making %s fd %d: %w", name, fd, err)
		}
	}
	// The init is a session leader (the runtime cloned it with setsid)
	// without a terminal yet: the slave becomes its controlling terminal.
	if err := unix.IoctlSetInt(0, unix.TIOCSCTTY, 0); err != nil {
		return fmt.Errorf("making %s the controlling terminal: %w", name, err)
	}
	return sendConsole(consoleFd(base), master, name)
}

// bindConsole makes /dev/console the pty's slave, as runc does, so that
// programs writing to the console reach the terminal.
func bindConsole(slave string) error {
	f, err := os.OpenFile("/dev/console", os.O_CREATE|os.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return fmt.Errorf("creating /dev/console: %w", err)
	}
	f.Close()
	if err := unix.Mount(slave, "/dev/console", "", unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("bind-mounting %s on /dev/console: %w", slave, err)
	}
	return nil
}

// sendConsole sends the master over the console socket; the name goes
// along as the message, as runc's does.
func sendConsole(sock, master int, name string) error {
	if err := unix.Sendmsg(sock, []byte(name), unix.UnixRights(master), nil, 0); err != nil {
		return fmt.Errorf("sending pty master over the console socket: %w", err)
	}
	return nil
}

// RecvConsole receives a pty master sent over a console socket (the other
// end of CreateOpts.ConsoleSocket).
func RecvConsole(sock *os.File) (*os.File, error) {
	buf := make([]byte, 256)
	oob := make([]byte, unix.CmsgSpace(4))
	sc, err := sock.SyscallConn()
	if err != nil {
		return nil, err
	}
	var n, oobn int
	var rerr error
	err = sc.Read(func(fd uintptr) bool {
		n, oobn, _, _, rerr = unix.Recvmsg(int(fd), buf, oob, unix.MSG_CMSG_CLOEXEC)
		return !errors.Is(rerr, unix.EAGAIN)
	})
	if err == nil {
		err = rerr
	}
	if err != nil {
		return nil, fmt.Errorf("receiving pty master: %w", err)
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		return nil, fmt.Errorf("receiving pty master: no file in the message (%v)", err)
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		for _, fd := range fds {
			unix.Close(fd)
		}
		return nil, fmt.Errorf("receiving pty master: want one file (%v)", err)
	}
	return os.NewFile(uintptr(fds[0]), string(buf[:n])), nil
}
