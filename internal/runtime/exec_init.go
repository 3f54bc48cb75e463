package runtime

import (
	"errors"
	"fmt"
	"os"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// execEnv marks a process as the helper of Exec; its value is the fd of
// the sync socket. The nsenter constructor has put the process in the
// container's namespaces (and forked it into the pid namespace) before
// the Go runtime started.
//
// The protocol, after the constructor's {"type":"pid"} line:
//
//	runtime → process  {"type":"config","config":{"spec":{"process":...,"linux":{"seccomp":...}}}}
//	                   sent once the process is in the container's cgroup
//	process → runtime  one byte carrying the terminal's master fd (SCM_RIGHTS),
//	                   when process.terminal is set
//	process → runtime  nothing if execve succeeds (the socket is close-on-exec),
//	               or  {"type":"error",...}; the process exits
const execEnv = "_STRATA_EXEC"

// runExecInit is the process side of Exec; it returns an exit status
// only when it fails.
func runExecInit(v string) int {
	fd, err := strconv.Atoi(v)
	if err != nil || fd < 3 {
		fmt.Fprintf(os.Stderr, "strata exec: bad %s=%q\n", execEnv, v)
		return 1
	}
	// Not dumpable until the execve resets it: the container's processes
	// share this pid namespace, and must not ptrace this process or open
	// its /proc files (its fds lead out of the container).
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
		return 1
	}
	sync := os.NewFile(uintptr(fd), "sync")
	msg, err := readMessage(newDecoder(sync))
	if err != nil || msg.Type != msgConfig || msg.Config == nil || msg.Config.Spec == nil ||
		msg.Config.Spec.Process == nil || msg.Config.Spec.Linux == nil {
		return 1
	}
	s := &initState{cfg: msg.Config, base: 3}
	err = s.setupExec(sync)
	if err == nil {
		err = s.exec()
	}
	writeMessage(sync, message{Type: msgError, Error: toWire(err)})
	switch {
	case errors.Is(err, ErrExecNotFound):
		return 127
	case errors.Is(err, ErrExecDenied):
		return 126
	}
	return 1
}

// setupExec makes the process what the spec says, as the init does for
// the workload, minus what belongs to the container as a whole (mounts,
// hostname, sysctls): it is already in the container's namespaces.
func (s *initState) setupExec(sync *os.File) error {
	proc := s.cfg.Spec.Process
	if err := s.compileSeccomp(); err != nil {
		return err
	}
	// A session of its own, so that a terminal can be its controlling
	// one and the caller's job control does not reach into it.
	if _, err := unix.Setsid(); err != nil && !errors.Is(err, unix.EPERM) {
		return fmt.Errorf("creating session: %w", err)
	}
	if proc.Terminal {
		if err := setupTerminal(sync, proc); err != nil {
			return err
		}
	}
	if err := setRlimits(proc.Rlimits); err != nil {
		return err
	}
	if err := s.setupProcess(); err != nil {
		return err
	}
	var err error
	s.path, err = lookPath(proc.Args[0], proc.Env)
	return err
}

// setupTerminal makes a pseudo-terminal in the container's devpts (so
// that the process's tty is /dev/pts/N there), sends its master to the
// runtime and makes its slave stdio and the controlling terminal.
func setupTerminal(sync *os.File, proc *specs.Process) error {
	master, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("opening /dev/ptmx in the container: %w", err)
	}
	defer unix.Close(master)
	if err := unix.IoctlSetPointerInt(master, unix.TIOCSPTLCK, 0); err != nil {
		return fmt.Errorf("unlocking pty: %w", err)
	}
	// TIOCGPTPEER opens the slave from the master, not by a path in
	// /dev/pts that the container could have replaced.
	slave, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(master), unix.TIOCGPTPEER, unix.O_RDWR|unix.O_NOCTTY)
	if errno != 0 {
		return fmt.Errorf("opening pty slave: %w", errno)
	}
	defer unix.Close(int(slave))
	if sz := proc.ConsoleSize; sz != nil {
		ws := &unix.Winsize{Row: uint16(sz.Height), Col: uint16(sz.Width)}
		if err := unix.IoctlSetWinsize(int(slave), unix.TIOCSWINSZ, ws); err != nil {
			return fmt.Errorf("setting terminal size: %w", err)
		}
	}
	// The process's user owns its terminal, as login does; a user the
	// container's user namespace does not map cannot, which is harmless.
	unix.Fchown(int(slave), int(proc.User.UID), int(proc.User.GID))
	if err := unix.Sendmsg(int(sync.Fd()), []byte{'t'}, unix.UnixRights(master), nil, 0); err != nil {
		return fmt.Errorf("sending terminal: %w", err)
	}
	for fd := 0; fd < 3; fd++ {
		if err := unix.Dup3(int(slave), fd, 0); err != nil {
			return fmt.Errorf("making the terminal fd %d: %w", fd, err)
		}
	}
	if err := unix.IoctlSetInt(0, unix.TIOCSCTTY, 0); err != nil {
		return fmt.Errorf("setting controlling terminal: %w", err)
	}
	return nil
}
