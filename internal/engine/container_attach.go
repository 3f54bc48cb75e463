package engine

import (
	"context"
	"errors"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/strata-containers/strata/internal/container"
	"github.com/strata-containers/strata/internal/errdefs"
	"github.com/strata-containers/strata/internal/monitor"
)

// ErrDetached is what an attach's Stdin returns when the user typed the
// detach keys: the client lets go and the container goes on running.
var ErrDetached = errors.New("detached from the container")

// AttachStreams are the client's ends of an attach.
type AttachStreams struct {
	// Stdin, if set, feeds the container's stdin; its end (io.EOF)
	// closes a StdinOnce container's stdin, ErrDetached detaches.
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// Resize carries terminal sizes (rows, cols), the first one at once.
	Resize <-chan [2]uint16
	// Size is the terminal's size when a start attaches, which the
	// workload finds set when it starts.
	Size [2]uint16
}

// ParseRestartPolicy parses --restart: no, always, unless-stopped,
// on-failure[:max-retries].
func ParseRestartPolicy(v string) (monitor.RestartPolicy, error) {
	name, count, hasCount := strings.Cut(v, ":")
	p := monitor.RestartPolicy{Name: name}
	if hasCount {
		n, err := strconv.Atoi(count)
		if err != nil {
			return p, errdefs.Invalid("invalid restart policy format: maximum retry count must be an integer")
		}
		p.MaximumRetryCount = n
	}
	return p, monitor.CheckRestartPolicy(p)
}

// checkAttachOptions rejects what docker rejects at create.
func checkAttachOptions(o ContainerCreateOptions) error {
	if err := monitor.CheckRestartPolicy(o.RestartPolicy); err != nil {
		return err
	}
	if o.AutoRemove && o.RestartPolicy.Name != "" && o.RestartPolicy.Name != "no" {
		return errdefs.Invalid("conflicting options: cannot specify both --restart and --rm")
	}
	return nil
}

func setAttachOptions(rec *container.Record, o ContainerCreateOptions) {
	rec.Config.Tty, rec.Config.OpenStdin, rec.Config.StdinOnce = o.Tty, o.OpenStdin, o.StdinOnce
	rec.Config.AttachStdin, rec.Config.AttachStdout, rec.Config.AttachStderr = o.AttachStdin, o.AttachStdout, o.AttachStderr
	rec.HostConfig.RestartPolicy = o.RestartPolicy
	if rec.HostConfig.RestartPolicy.Name == "" {
		rec.HostConfig.RestartPolicy.Name = "no"
	}
}

// terminal carries the record's terminal, stdin and restart settings into
// the spec and the monitor's configuration. A terminal gets docker's
// TERM=xterm unless the container sets TERM.
func terminal(cfg *monitor.Config, s *specs.Spec, rec container.Record) {
	cfg.Tty, cfg.OpenStdin, cfg.StdinOnce = rec.Config.Tty, rec.Config.OpenStdin, rec.Config.StdinOnce
	cfg.Restart = rec.HostConfig.RestartPolicy
	if !rec.Config.Tty || s.Process == nil {
		return
	}
	s.Process.Terminal = true
	if !slices.ContainsFunc(s.Process.Env, func(kv string) bool { return strings.HasPrefix(kv, "TERM=") }) {
		s.Process.Env = append(s.Process.Env, "TERM=xterm")
	}
}

// ContainerAttach connects streams to a running container until its
// workload exits, and returns the exit code; with ErrDetached when the
// user detached.
func (e *Engine) ContainerAttach(ctx context.Context, ref string, s AttachStreams) (int, error) {
	c, err := e.containers.Get(ctx, ref)
	if err != nil {
		return -1, err
	}
	switch {
	case c.State.Status == monitor.StatusRestarting:
		return -1, errdefs.Conflict("you cannot attach to a restarting container, wait until it is running")
	case !c.Running():
		return -1, errdefs.Conflict("you cannot attach to a stopped container, start it first")
	}
	conn, err := monitor.Dial(ctx, e.bundle(c.ID))
	if err != nil {
		return -1, err
	}
	code, exited, err := stream(conn, s)
	if err != nil && ctx.Err() != nil {
		err = ctx.Err() // the deadline ctx put on the connection
	}
	if err != nil || exited {
		return code, err
	}
	// The connection ended without an exit code: ask the record.
	return e.ContainerWait(ctx, c.ID)
}

// ContainerStartAttach starts a container with streams attached from the
// first byte of output (the monitor holds the workload until the client
// is connected) and returns its exit code once it exited and, with --rm,
// was removed; or ErrDetached, leaving it running.
func (e *Engine) ContainerStartAttach(ctx context.Context, ref string, s AttachStreams) (int, error) {
	var conn *monitor.Conn
	att, err := e.start(ctx, ref, true, func(cfg *monitor.Config) {
		bundle := cfg.Bundle
		cfg.WaitAttach, cfg.ConsoleSize = true, s.Size
		cfg.Attach = func() (err error) {
			conn, err = monitor.Dial(ctx, bundle)
			return err
		}
	})
	if err != nil {
		if conn != nil {
			conn.Close()
		}
		return -1, err
	}
	if att.h == nil { // it was running already
		return e.ContainerAttach(ctx, att.ID, s)
	}
	_, _, serr := stream(conn, s)
	if serr != nil && ctx.Err() != nil {
		serr = ctx.Err() // the deadline ctx put on the connection
	}
	if serr != nil {
		// Detached, or the CLI is going away: the container runs on.
		att.h.Detach()
		if errors.Is(serr, ErrDetached) {
			return 0, serr
		}
		return -1, serr
	}
	return att.wait(ctx)
}

// stream runs an attach over conn: stdin and sizes in, output out.
func stream(conn *monitor.Conn, s AttachStreams) (code int, exited bool, err error) {
	defer conn.Close()
	detached := make(chan struct{})
	if s.Resize != nil {
		go func() {
			for sz := range s.Resize {
				if conn.Resize(sz[0], sz[1]) != nil {
					return
				}
			}
		}()
	}
	if s.Stdin != nil {
		go func() {
			_, err := io.Copy(conn, s.Stdin)
			if errors.Is(err, ErrDetached) {
				close(detached)
				conn.Close()
				return
			}
			if err == nil {
				_ = conn.CloseStdin()
			}
		}()
	}
	code, exited, err = conn.Copy(s.Stdout, s.Stderr)
	select {
	case <-detached:
		return 0, false, ErrDetached
	default:
	}
	return code, exited, err
}

// wait waits for an attached start's workload to end, removes an --rm
// container (sparing the monitor's cleanup a strata process, as Wait
// does) and lets the monitor go.
func (a *Attached) wait(ctx context.Context) (int, error) {
	code, werr := a.h.Wait(ctx)
	if werr != nil {
		a.h.Detach() // Finish would wait for the monitor, i.e. the container
		return code, werr
	}
	if a.autoRemove && a.e.ContainerRemove(ctx, a.ID, false) == nil {
		a.h.Removed()
	}
	return code, a.h.Finish()
}

// ContainerProxySignal forwards a signal the CLI received to a running
// container (docker's --sig-proxy). The kernel drops a signal sent to a
// pid namespace's init that has no handler for it, so a ^C to `run
// busybox sleep 100` would do nothing at all; a terminating signal
// (HUP, INT, QUIT, TERM) that the init does not catch stops the container
// with SIGKILL instead, which is what the signal would do to any other
// process.
func (e *Engine) ContainerProxySignal(ctx context.Context, ref string, sig unix.Signal) error {
	c, err := e.containers.Get(ctx, ref)
	if err != nil || !c.Running() {
		return err
	}
	switch sig {
	case unix.SIGHUP, unix.SIGINT, unix.SIGQUIT, unix.SIGTERM:
		if !catches(c.State.Pid, sig) {
			sig = unix.SIGKILL
		}
	}
	return e.ContainerKill(ctx, c.ID, strconv.Itoa(int(sig)))
}

// catches reports whether process pid has a handler for sig (SigCgt in
// /proc/<pid>/status); an unreadable status counts as catching, so the
// signal itself is sent.
func catches(pid int, sig unix.Signal) bool {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return true
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "SigCgt:"); ok {
			mask, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			return err != nil || mask&(1<<(uint(sig)-1)) != 0
		}
	}
	return true
}
