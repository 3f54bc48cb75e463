package monitor

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/strata-containers/strata/internal/atomicfile"
	"github.com/strata-containers/strata/internal/errdefs"
	"github.com/strata-containers/strata/internal/logs"
	"github.com/strata-containers/strata/internal/mount"
	"github.com/strata-containers/strata/internal/runtime"
)

// Verb is the hidden first argument that makes the binary a monitor; main
// dispatches it to Main right after runtime.Init.
const Verb = "__strata-monitor"

// Config is what a monitor needs to run one container.
type Config struct {
	ID          string             `json:"ID"`
	Bundle      string             `json:"Bundle"`      // config.json + rootfs
	Mounts      []mount.Mount      `json:"Mounts"`      // assemble the rootfs if it is not mounted
	RuntimeRoot string             `json:"RuntimeRoot"` // the runtime's state directory
	StatePath   string             `json:"StatePath"`
	LogPath     string             `json:"LogPath"`
	LogOpts     logs.WriterOptions `json:"LogOpts"`
	// Cleanup, if set, is run (argv) once the container is torn down:
	// the launcher's way of removing an --rm container.
	Cleanup []string `json:"Cleanup,omitempty"`
	// Release, if set, is run (argv) when the workload has ended for
	// good (not between restarts), before the state says so: the
	// engine's way of freeing the container's network at its stop.
	Release []string `json:"Release,omitempty"`
	// Exe, if set, is a sealed copy of the strata binary
	// (runtime.SealedExe) that the launcher made while it prepared the
	// bundle; the monitor inherits it and runs the container's init from
	// it instead of copying the binary itself, on the critical path.
	Exe *os.File `json:"-"`
	// SealedExe says that the monitor inherits Exe as exeFd.
	SealedExe bool `json:"SealedExe,omitempty"`

	// Tty runs the workload on a terminal whose master the monitor
	// holds; OpenStdin gives it a stdin that attached clients write to,
	// closed when a client's stdin ends if StdinOnce.
	Tty       bool `json:"Tty,omitempty"`
	OpenStdin bool `json:"OpenStdin,omitempty"`
	StdinOnce bool `json:"StdinOnce,omitempty"`
	// Restart is the restart policy the monitor enforces.
	Restart RestartPolicy `json:"Restart"`
	// WaitAttach holds the first run's workload until the launcher has
	// attached: Launch calls Attach when the socket is ready.
	WaitAttach bool         `json:"WaitAttach,omitempty"`
	Attach     func() error `json:"-"`
	// ConsoleSize is the terminal's size (rows, cols) at start: the
	// attaching client's, set before the workload runs.
	ConsoleSize [2]uint16 `json:"ConsoleSize,omitempty"`
}

// Rootfs is where the container's root filesystem is mounted.
func (c Config) Rootfs() string { return filepath.Join(c.Bundle, "rootfs") }

// Handle is a launched monitor, as its launcher sees it.
type Handle struct {
	Pid  int
	cmd  *exec.Cmd
	conn *os.File
	dec  *json.Decoder
}

// message is one line of the launcher protocol.
type message struct {
	Event string `json:"event"` // started, error, exited; removed (launcher to monitor)
	Pid   int    `json:"pid,omitempty"`
	Code  int    `json:"code,omitempty"`
	Error string `json:"error,omitempty"`
	Class string `json:"class,omitempty"` // notfound, denied, other
}

// Launch starts the monitor of the container cfg describes, with exe (the
// strata binary, "/proc/self/exe" in strata itself), and returns once the
// workload runs, or with the error that kept it from starting: wrapping
// runtime.ErrExecNotFound or runtime.ErrExecDenied when the executable is
// missing or cannot run.
func Launch(ctx context.Context, exe string, cfg Config) (*Handle, error) {
	cfg.SealedExe = cfg.Exe != nil
	data, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	if err := WriteBundleFile(filepath.Join(cfg.Bundle, "monitor.json"), data); err != nil {
		return nil, fmt.Errorf("writing monitor config of container %s: %w", cfg.ID, err)
	}
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("launching monitor of container %s: %w", cfg.ID, err)
	}
	conn, child := os.NewFile(uintptr(fds[0]), "monitor"), os.NewFile(uintptr(fds[1]), "launcher")
	cmd := exec.Command(exe, Verb, cfg.Bundle)
	cmd.ExtraFiles = []*os.File{child}
	if cfg.Exe != nil {
		cmd.ExtraFiles = append(cmd.ExtraFiles, cfg.Exe) // exeFd
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	cmd.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "GOMAXPROCS=1"}
	cmd.Dir = "/" // not the launcher's cwd, which it would keep busy
	// The monitor has no one to talk to but this file about what went
	// wrong after its launcher left.
	errLog, err := os.OpenFile(filepath.Join(cfg.Bundle, "monitor.log"), os.O_WRONLY|os.O_CREATE|os.O_APPEND|unix.O_CLOEXEC, 0o600)
	if err != nil {
		conn.Close()
		child.Close()
		return nil, fmt.Errorf("launching monitor of container %s: %w", cfg.ID, err)
	}
	cmd.Stderr = errLog
	err = cmd.Start()
	child.Close()
	errLog.Close()
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("launching monitor of container %s: %w", cfg.ID, err)
	}
	h := &Handle{Pid: cmd.Process.Pid, cmd: cmd, conn: conn, dec: json.NewDecoder(bufio.NewReader(conn))}
	m, err := h.read(ctx)
	if err == nil && m.Event == "listening" {
		m, err = h.attach(ctx, cfg)
	}
	if err == nil && m.Event == "error" {
		err = startError(m)
	}
	if err == nil && m.Event != "started" {
		err = fmt.Errorf("monitor of container %s: unexpected message %q", cfg.ID, m.Event)
	}
	if err != nil {
		h.Detach()
		return nil, err
	}
	return h, nil
}

// attach runs the launcher's Attach once the monitor listens, tells the
// monitor, and reads the message that follows.
func (h *Handle) attach(ctx context.Context, cfg Config) (message, error) {
	if cfg.Attach == nil {
		return message{}, fmt.Errorf("monitor of container %s waits for an attach that will not come", cfg.ID)
	}
	if err := cfg.Attach(); err != nil {
		return message{}, err
	}
	send(h.conn, message{Event: "attached"})
	return h.read(ctx)
}

// WriteBundleFile replaces path, a file of a container's bundle (its
// config.json, monitor.json), atomically but without atomicfile's fsyncs:
// the bundle is run state, rewritten by every start and meaningless after
// a reboot, so it must survive a crashed process (the rename does that)
// but not a crashed machine, and fsyncs on the path of every start cost
// milliseconds on a disk.
func WriteBundleFile(path string, data []byte) error { return replaceNoSync(path, data) }

// replaceNoSync replaces path with data by a rename, without fsyncs.
func replaceNoSync(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), atomicfile.TempPrefix+filepath.Base(path)+"-")
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}

func startError(m message) error {
	switch m.Class {
	case "notfound":
		return &startErr{msg: m.Error, classes: []error{runtime.ErrExecNotFound, errdefs.ErrNotFound}}
	case "denied":
		return &startErr{msg: m.Error, classes: []error{runtime.ErrExecDenied, errdefs.ErrInvalid}}
	}
	return &startErr{msg: m.Error}
}

type startErr struct {
	msg     string
	classes []error
}

func (e *startErr) Error() string   { return e.msg }
func (e *startErr) Unwrap() []error { return e.classes }

// read reads the next message; a monitor that died says so with EOF.
func (h *Handle) read(ctx context.Context) (message, error) {
	var m message
	done := make(chan error, 1)
	go func() { done <- h.dec.Decode(&m) }()
	select {
	case err := <-done:
		if err != nil {
			return m, fmt.Errorf("monitor (pid %d) went away: %w", h.Pid, err)
		}
		return m, nil
	case <-ctx.Done():
		return m, ctx.Err()
	}
}

// Wait waits for the workload to exit and returns its exit code.
func (h *Handle) Wait(ctx context.Context) (int, error) {
	m, err := h.read(ctx)
	if err != nil {
		return -1, err
	}
	if m.Event != "exited" {
		return -1, fmt.Errorf("monitor (pid %d): unexpected message %q", h.Pid, m.Event)
	}
	return m.Code, nil
}

// Detach tells the monitor it is on its own and waits for nothing; the
// monitor goes on running the container.
func (h *Handle) Detach() {
	h.conn.Close()
	_ = h.cmd.Process.Release()
}

// Removed tells the monitor that the launcher removed the exited
// container itself, so that the monitor skips its cleanup (which would
// cost a whole strata process). Call it between Wait and Finish.
func (h *Handle) Removed() {
	send(h.conn, message{Event: "removed"})
}

// Finish closes the launcher's side, which lets the monitor run its
// cleanup, and waits for the monitor to exit.
func (h *Handle) Finish() error {
	_ = unix.Shutdown(int(h.conn.Fd()), unix.SHUT_WR)
	h.conn.Close()
	err := h.cmd.Wait()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return fmt.Errorf("monitor (pid %d): %w", h.Pid, err)
	}
	return err
}
