package runtime

import (
	"errors"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/sys/unix"
)

// A spec annotated reaperAnnotation=reaperValue (spec.InitAnnotation,
// `run --init`) keeps the init as the container's PID 1: it starts the
// workload as its child, forwards every signal it gets to it, reaps every
// zombie the namespace's orphans leave, and exits with the workload's
// status, as docker's init (tini) does.
//
// The init is this binary, already running inside the container, so no
// executable has to be bound into the container for it: a strata built
// with cgo is dynamically linked and could not be executed inside an image
// without the host's libc (busybox has none).
const (
	reaperAnnotation = "org.strata.init"
	reaperValue      = "reaper"
)

// reap starts the workload and reaps until it exits; it returns the exit
// status for the init to exit with. conn is the start connection, which
// learns of a failed start, and is closed once the workload runs, which
// tells the runtime that it does; listener is the start socket.
func (s *initState) reap(conn *os.File, listener int) int {
	// Before the fork, so that no SIGCHLD or forwarded signal is missed.
	sigs := make(chan os.Signal, 128)
	signal.Notify(sigs)
	child, err := s.startChild()
	if err != nil {
		writeMessage(conn, message{Type: msgError, Error: toWire(err)})
		switch {
		case errors.Is(err, ErrExecNotFound):
			return 127
		case errors.Is(err, ErrExecDenied):
			return 126
		}
		return 1
	}
	conn.Close()
	unix.Close(listener)
	return reapLoop(child, sigs)
}

// startChild prepares the execve as exec does and forks the workload,
// which inherits stdio and the fds below base (those passed on purpose).
func (s *initState) startChild() (int, error) {
	proc := s.cfg.Spec.Process
	if err := markCloexec(s.base); err != nil {
		return 0, err
	}
	umask := 0o022
	if proc.User.Umask != nil {
		umask = int(*proc.User.Umask)
	}
	unix.Umask(umask)
	if err := s.loadSeccomp(true); err != nil {
		return 0, err
	}
	files := make([]uintptr, s.base)
	for i := range files {
		files[i] = uintptr(i)
	}
	pid, err := syscall.ForkExec(s.path, proc.Args, &syscall.ProcAttr{Env: proc.Env, Files: files})
	if err != nil {
		return 0, execError(proc.Args[0], "", err)
	}
	return pid, nil
}

// reapLoop forwards signals to child and reaps every exited process until
// child is among them; it returns child's status (128+n for signal n).
func reapLoop(child int, sigs <-chan os.Signal) int {
	for sig := range sigs {
		switch sig {
		case unix.SIGCHLD:
			if code, done := reapAll(child); done {
				return code
			}
		case unix.SIGURG:
			// The Go runtime's preemption signal, not someone's message.
		default:
			if n, ok := sig.(syscall.Signal); ok {
				_ = unix.Kill(child, unix.Signal(n))
			}
		}
	}
	return 1
}

// reapAll collects every zombie there is; done reports whether child was
// one of them, with its status.
func reapAll(child int) (code int, done bool) {
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil || pid <= 0 {
			return code, done
		}
		if pid == child {
			done = true
			code = ws.ExitStatus()
			if ws.Signaled() {
				code = 128 + int(ws.Signal())
			}
		}
	}
}
