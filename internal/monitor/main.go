package monitor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"

	"github.com/strata-containers/strata/internal/errdefs"
	"github.com/strata-containers/strata/internal/mount"
	"github.com/strata-containers/strata/internal/runtime"
)

// launcherFd is the monitor's end of the socketpair with its launcher;
// exeFd the sealed executable it may inherit (Config.SealedExe).
const (
	launcherFd = 3
	exeFd      = 4
)

// Main runs the monitor for the bundle named by args[0] and returns the
// process's exit status. It never returns before the container is gone.
func Main(args []string) int {
	// No terminal, no one to ^C us: only the container's end ends us.
	signal.Ignore(unix.SIGINT, unix.SIGHUP, unix.SIGPIPE, unix.SIGTERM)
	conn := os.NewFile(launcherFd, "launcher")
	if len(args) != 1 {
		fmt.Fprintln(os.Stderr, "usage: strata "+Verb+" BUNDLE")
		return 2
	}
	cfg, err := readConfig(args[0])
	if err != nil {
		send(conn, message{Event: "error", Error: err.Error(), Class: "other"})
		return 1
	}
	m := &monitor{cfg: cfg, conn: conn}
	return m.run(context.Background())
}

func readConfig(bundle string) (Config, error) {
	var cfg Config
	data, err := os.ReadFile(filepath.Join(bundle, "monitor.json"))
	if err != nil {
		return cfg, err
	}
	return cfg, json.Unmarshal(data, &cfg)
}

func send(w io.Writer, m message) {
	data, _ := json.Marshal(m)
	_, _ = w.Write(append(data, '\n'))
}

type monitor struct {
	cfg   Config
	conn  *os.File
	rt    *runtime.Runtime
	hub   *hub
	stdio *runStdio // the current run's
	// deleted says the runtime's container of the last run is gone.
	deleted bool
}

func (m *monitor) run(ctx context.Context) int {
	st, _ := ReadState(m.cfg.StatePath)
	st.MonitorPid = os.Getpid()
	st.MonitorStart, _ = runtime.ProcStart(st.MonitorPid)
	_ = os.Remove(filepath.Join(m.cfg.Bundle, stoppedMark)) // a start undoes a stop
	var err error
	if m.rt, err = runtime.New(m.cfg.RuntimeRoot); err == nil {
		err = m.mountRootfs()
	}
	if err == nil {
		m.hub, err = listen(m.cfg)
	}
	if err == nil {
		err = m.start(ctx, &st, true)
	}
	if err != nil {
		if m.hub != nil {
			m.hub.close()
		}
		m.failed(st, err)
		return 1
	}
	send(m.conn, message{Event: "started", Pid: st.Pid})
	time.AfterFunc(idleAfter, releaseMemory)
	code := m.supervise(ctx, &st)
	if m.deleted {
		m.unmountRootfs()
	} else {
		m.teardown(ctx) // one more try
	}
	m.runArgv("releasing the network of", m.cfg.Release)
	if err := m.writeState(st); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	// Attached clients learn the end after the state says it, so that
	// what they do next (inspect, start) finds the container exited.
	m.hub.exited(code)
	m.hub.close()
	send(m.conn, message{Event: "exited", Code: code})
	if !m.waitLauncher() {
		m.cleanup()
	}
	return 0
}

// supervise waits for the workload and restarts it as the restart
// policy says, and returns the exit code of the last run; st is left
// "exited".
func (m *monitor) supervise(ctx context.Context, st *State) int {
	var delay time.Duration
	for {
		code, err := m.rt.Wait(ctx, m.cfg.ID)
		if err != nil {
			code = 255
			st.Error = err.Error()
		}
		m.stdio.finish(m.hub)
		ran := time.Since(st.StartedAt)
		st.Status, st.ExitCode, st.FinishedAt, st.Pid = StatusExited, code, time.Now().UTC(), 0
		st.OOMKilled = m.oomKilled(ctx) // before Delete removes the cgroup
		err = m.rt.Delete(ctx, m.cfg.ID, true)
		if m.deleted = err == nil || errdefs.IsNotFound(err); !m.deleted {
			fmt.Fprintln(os.Stderr, err)
		}
		var again bool
		delay, again = m.restartDelay(code, st.RestartCount, ran, delay)
		if !again {
			return code
		}
		st.Status = StatusRestarting
		if err := m.writeState(*st); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
		m.hub.exited(code)
		if !m.sleepUnlessStopped(delay) {
			st.Status = StatusExited
			return code
		}
		st.RestartCount++
		if err := m.start(ctx, st, false); err != nil {
			fmt.Fprintf(os.Stderr, "restarting container %s: %v\n", m.cfg.ID, err)
			st.Status, st.Error = StatusExited, err.Error()
			return code
		}
	}
}

// start creates and starts the container with its stdio (pipes into the
// log, or a terminal) and records it as running. On the first run of a
// launcher that attaches (Config.WaitAttach), the workload is released
// only once the launcher's client is connected, so it sees all output.
func (m *monitor) start(ctx context.Context, st *State, first bool) error {
	stdio, err := m.openStdio()
	if err != nil {
		return err
	}
	opts := stdio.opts
	if first && m.cfg.SealedExe {
		opts.Exe = os.NewFile(exeFd, "sealed-exe")
	}
	err = m.rt.Create(ctx, m.cfg.ID, m.cfg.Bundle, opts)
	// The init no longer needs the executable (it pins the binary's pages
	// while open).
	if opts.Exe != nil {
		opts.Exe.Close()
	}
	if err == nil {
		err = stdio.created(m.hub)
	}
	if err == nil && first && m.cfg.WaitAttach {
		err = m.awaitAttach()
	}
	if err == nil {
		err = m.rt.Start(ctx, m.cfg.ID)
	}
	if err != nil {
		_ = m.rt.Delete(ctx, m.cfg.ID, true)
		stdio.abort()
		return err
	}
	m.stdio = stdio
	ost, err := m.rt.State(ctx, m.cfg.ID)
	if err != nil {
		return err
	}
	st.Status, st.Pid, st.StartedAt = StatusRunning, ost.Pid, time.Now().UTC()
	st.ExitCode, st.Error, st.FinishedAt = 0, "", time.Time{}
	if err := m.writeState(*st); err != nil {
		return err
	}
	if m.stoppedByUser() {
		// A stop that came while the container was being (re)created
		// found nothing to signal: it is carried out now.
		_ = m.rt.Kill(ctx, m.cfg.ID, unix.SIGKILL, true)
	}
	return nil
}

// awaitAttach tells the launcher the attach socket is ready and waits
// for its "attached" (its client is connected) and for the hub to have
// registered that client.
func (m *monitor) awaitAttach() error {
	send(m.conn, message{Event: "listening"})
	var line []byte
	b := make([]byte, 1)
	for {
		if _, err := m.conn.Read(b); err != nil {
			return fmt.Errorf("launcher went away before attaching: %w", err)
		}
		if b[0] == '\n' {
			break
		}
		line = append(line, b[0])
	}
	var msg message
	if err := json.Unmarshal(line, &msg); err != nil || msg.Event != "attached" {
		return fmt.Errorf("launcher did not attach: %q", line)
	}
	<-m.hub.attached
	return nil
}

func (m *monitor) mountRootfs() error {
	rootfs := m.cfg.Rootfs()
	if err := os.MkdirAll(rootfs, 0o755); err != nil {
		return err
	}
	if ok, err := mount.IsMountPoint(rootfs); err != nil || ok {
		return err
	}
	return mount.All(m.cfg.Mounts, rootfs)
}

// failed reports a start that failed to the launcher and leaves the
// container "created" with Docker's exit code for the failure.
func (m *monitor) failed(st State, err error) {
	class, code := "other", 125
	switch {
	case errors.Is(err, runtime.ErrExecNotFound):
		class, code = "notfound", 127
	case errors.Is(err, runtime.ErrExecDenied):
		class, code = "denied", 126
	}
	if m.rt != nil {
		m.teardown(context.Background())
	}
	m.runArgv("releasing the network of", m.cfg.Release)
	st.Status, st.ExitCode, st.Error = StatusCreated, code, err.Error()
	st.MonitorPid, st.MonitorStart, st.Pid = 0, 0, 0
	_ = WriteState(m.cfg.StatePath, st)
	send(m.conn, message{Event: "error", Error: err.Error(), Class: class})
	m.waitLauncher()
}

// teardown deletes the runtime's container (its cgroup) and unmounts the
// rootfs.
func (m *monitor) teardown(ctx context.Context) {
	if err := m.rt.Delete(ctx, m.cfg.ID, true); err != nil && !errdefs.IsNotFound(err) {
		fmt.Fprintln(os.Stderr, err)
	}
	m.unmountRootfs()
}

func (m *monitor) unmountRootfs() {
	if err := mount.UnmountAll(m.cfg.Rootfs()); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
}

// writeState records the container's state. The record of an --rm
// container is removed at its end, so its state only needs to be there
// for its launcher and the removal, not to survive a crash of the machine
// (after which the container's processes are gone anyway): it is replaced
// without the fsyncs, which are on the path of every `run --rm`.
func (m *monitor) writeState(st State) error {
	if len(m.cfg.Cleanup) == 0 {
		return WriteState(m.cfg.StatePath, st)
	}
	data, err := json.Marshal(st)
	if err == nil {
		err = replaceNoSync(m.cfg.StatePath, data)
	}
	if err != nil {
		return fmt.Errorf("writing container state %s: %w", m.cfg.StatePath, err)
	}
	return nil
}

// waitLauncher waits until the launcher closed its side: at once for a
// detached launcher, after it read the end of the log for an attached one.
// It reports whether the launcher said it removed the container itself,
// which leaves the cleanup nothing to do; a launcher that died before
// saying so leaves it to the cleanup.
func (m *monitor) waitLauncher() (removed bool) {
	dec := json.NewDecoder(m.conn)
	for {
		var msg message
		if err := dec.Decode(&msg); err != nil {
			break
		}
		removed = removed || msg.Event == "removed"
	}
	_, _ = io.Copy(io.Discard, m.conn)
	m.conn.Close()
	return removed
}

func (m *monitor) cleanup() { m.runArgv("cleanup of", m.cfg.Cleanup) }

// runArgv runs one of the engine's commands (Cleanup, Release) and
// reports its failure on the monitor's stderr.
func (m *monitor) runArgv(what string, argv []string) {
	if len(argv) == 0 {
		return
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "%s container %s: %v\n", what, m.cfg.ID, err)
	}
}
