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
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/strata-containers/strata/internal/errdefs"
	"github.com/strata-containers/strata/internal/logs"
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
	cfg  Config
	conn *os.File
	rt   *runtime.Runtime
}

func (m *monitor) run(ctx context.Context) int {
	st, _ := ReadState(m.cfg.StatePath)
	st.MonitorPid = os.Getpid()
	st.MonitorStart, _ = runtime.ProcStart(st.MonitorPid)
	relays, err := m.start(ctx, &st)
	if err != nil {
		m.failed(st, err)
		return 1
	}
	send(m.conn, message{Event: "started", Pid: st.Pid})
	code, err := m.rt.Wait(ctx, m.cfg.ID)
	if err != nil {
		code = 255
		st.Error = err.Error()
	}
	relays.Wait()
	st.Status, st.ExitCode, st.FinishedAt = StatusExited, code, time.Now().UTC()
	st.OOMKilled = m.oomKilled(ctx)
	st.Pid = 0
	m.teardown(ctx)
	if err := m.writeState(st); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	send(m.conn, message{Event: "exited", Code: code})
	if !m.waitLauncher() {
		m.cleanup()
	}
	return 0
}

// start mounts the rootfs, creates and starts the container with its
// output piped into the log, and records it as running.
func (m *monitor) start(ctx context.Context, st *State) (*sync.WaitGroup, error) {
	rt, err := runtime.New(m.cfg.RuntimeRoot)
	if err != nil {
		return nil, err
	}
	m.rt = rt
	if err := m.mountRootfs(); err != nil {
		return nil, err
	}
	relays, stdout, stderr, err := m.relay()
	if err != nil {
		return nil, err
	}
	opts := runtime.CreateOpts{Stdout: stdout, Stderr: stderr}
	if m.cfg.SealedExe {
		opts.Exe = os.NewFile(exeFd, "sealed-exe")
	}
	err = rt.Create(ctx, m.cfg.ID, m.cfg.Bundle, opts)
	// The container holds the write ends now; ours would keep the relays
	// from ever seeing EOF. The init no longer needs the executable either
	// (it pins the binary's pages while open).
	stdout.Close()
	stderr.Close()
	if opts.Exe != nil {
		opts.Exe.Close()
	}
	if err != nil {
		relays.Wait()
		return nil, err
	}
	if err := rt.Start(ctx, m.cfg.ID); err != nil {
		_ = rt.Delete(ctx, m.cfg.ID, true)
		relays.Wait()
		return nil, err
	}
	ost, err := rt.State(ctx, m.cfg.ID)
	if err != nil {
		return nil, err
	}
	st.Status, st.Pid, st.StartedAt = StatusRunning, ost.Pid, time.Now().UTC()
	st.ExitCode, st.Error, st.FinishedAt = 0, "", time.Time{}
	return relays, m.writeState(*st)
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

// relay opens the log and returns the write ends of the container's
// stdout and stderr pipes; the WaitGroup is done when both reached EOF and
// the log is closed.
func (m *monitor) relay() (*sync.WaitGroup, *os.File, *os.File, error) {
	w, err := logs.NewWriter(m.cfg.LogPath, m.cfg.LogOpts)
	if err != nil {
		return nil, nil, nil, err
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		w.Close()
		return nil, nil, nil, err
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		w.Close()
		outR.Close()
		outW.Close()
		return nil, nil, nil, err
	}
	var streams sync.WaitGroup
	for _, p := range []struct {
		r    *os.File
		name string
	}{{outR, "stdout"}, {errR, "stderr"}} {
		streams.Add(1)
		go func() {
			defer streams.Done()
			s := w.Stream(p.name)
			_, _ = io.Copy(s, p.r)
			s.Close()
			p.r.Close()
		}()
	}
	done := &sync.WaitGroup{}
	done.Add(1)
	go func() {
		streams.Wait()
		w.Close()
		done.Done()
	}()
	return done, outW, errW, nil
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

func (m *monitor) cleanup() {
	if len(m.cfg.Cleanup) == 0 {
		return
	}
	cmd := exec.Command(m.cfg.Cleanup[0], m.cfg.Cleanup[1:]...)
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "cleanup of container %s: %v\n", m.cfg.ID, err)
	}
}
