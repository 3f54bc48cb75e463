package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/sys/unix"
	"golang.org/x/term"

	"github.com/strata-containers/strata/internal/engine"
	"github.com/strata-containers/strata/internal/errdefs"
)

// defaultDetachKeys is docker's ctrl-p,ctrl-q.
const defaultDetachKeys = "ctrl-p,ctrl-q"

// ttyFlags are -i, -t, -a and --restart of create and run.
type ttyFlags struct {
	interactive, tty bool
	detach           bool // run's -d
	attach           listFlag
	restart          string
}

func (f *ttyFlags) register(fl *pflag.FlagSet) {
	fl.BoolVarP(&f.interactive, "interactive", "i", false, "Keep STDIN open even if not attached")
	fl.BoolVarP(&f.tty, "tty", "t", false, "Allocate a pseudo-TTY")
	fl.VarP(&f.attach, "attach", "a", "Attach to STDIN, STDOUT or STDERR")
	fl.StringVar(&f.restart, "restart", "no", "Restart policy to apply when a container exits")
}

// apply sets the engine's options as docker's CLI does: a foreground
// container attaches stdout and stderr (or what -a names), -i attaches
// stdin and closes it when the client's stdin ends.
func (f *ttyFlags) apply(o *engine.ContainerCreateOptions, detach bool) error {
	o.Tty, o.OpenStdin = f.tty, f.interactive
	var err error
	if o.RestartPolicy, err = engine.ParseRestartPolicy(f.restart); err != nil {
		return err
	}
	for _, s := range f.attach.values {
		switch strings.ToLower(s) {
		case "stdin":
			o.AttachStdin = true
		case "stdout":
			o.AttachStdout = true
		case "stderr":
			o.AttachStderr = true
		default:
			return errdefs.Invalid("invalid argument %q for \"-a, --attach\" flag: valid streams are STDIN, STDOUT and STDERR", s)
		}
	}
	if detach {
		if len(f.attach.values) > 0 {
			return errdefs.Invalid("conflicting options: cannot specify both --attach and --detach")
		}
		return nil
	}
	if len(f.attach.values) == 0 {
		o.AttachStdout, o.AttachStderr = true, true
		o.AttachStdin = f.interactive
	}
	o.StdinOnce = o.AttachStdin
	return nil
}

// attachFlags are the client side of an attach: run's, start's, attach's.
type attachFlags struct {
	detachKeys string
	sigProxy   bool
	streams    *ttyFlags // run's -a, choosing the outputs; nil: both
}

// outputs are the client's stdout and stderr as -a names them: a stream
// -a does not name reaches the client nowhere (io.Discard), as in docker.
func (f *ttyFlags) outputs(out, errw io.Writer) (io.Writer, io.Writer) {
	if f == nil || len(f.attach.values) == 0 {
		return out, errw
	}
	o, e := io.Discard, io.Discard
	for _, s := range f.attach.values {
		switch strings.ToLower(s) {
		case "stdout":
			o = out
		case "stderr":
			e = errw
		}
	}
	return o, e
}

func (f *attachFlags) register(fl *pflag.FlagSet, sigProxy bool) {
	fl.StringVar(&f.detachKeys, "detach-keys", "", "Override the key sequence for detaching a container")
	if sigProxy {
		fl.BoolVar(&f.sigProxy, "sig-proxy", true, "Proxy received signals to the process")
	}
}

// attachSession is the terminal side of one attach: the streams handed to
// the engine, and the terminal state to restore.
type attachSession struct {
	streams engine.AttachStreams
	restore func()
}

// newAttachSession prepares the CLI's streams: stdin (if attached) through
// the detach keys; when the container has a tty, the terminal's sizes
// (sent again on SIGWINCH) and, with stdin, raw mode.
func (c *cli) newAttachSession(stdin, tty bool, keys string) (*attachSession, error) {
	if keys == "" {
		keys = defaultDetachKeys
	}
	seq, err := parseDetachKeys(keys)
	if err != nil {
		return nil, err
	}
	s := &attachSession{streams: engine.AttachStreams{Stdout: c.Out, Stderr: c.Err}, restore: func() {}}
	if tty {
		s.streams.Stderr = c.Out // a terminal has one output
	}
	in, inTerm := c.In.(*os.File)
	inTerm = inTerm && term.IsTerminal(int(in.Fd()))
	if stdin {
		if err := c.checkInputTTY(stdin, tty); err != nil {
			return nil, err
		}
		s.streams.Stdin = &detachReader{r: c.In, keys: seq}
	}
	if !tty || !inTerm {
		return s, nil
	}
	if ws, err := unix.IoctlGetWinsize(int(in.Fd()), unix.TIOCGWINSZ); err == nil {
		s.streams.Size = [2]uint16{ws.Row, ws.Col}
	}
	resize, stop := watchSize(in)
	s.streams.Resize = resize
	s.restore = stop
	if stdin {
		// Keys go to the container as typed: ^C is a byte for its
		// terminal to turn into SIGINT, not a signal to the CLI.
		old, err := term.MakeRaw(int(in.Fd()))
		if err != nil {
			stop()
			return nil, fmt.Errorf("setting the terminal to raw mode: %w", err)
		}
		s.restore = func() {
			stop()
			_ = term.Restore(int(in.Fd()), old)
		}
	}
	return s, nil
}

// checkInputTTY refuses -i -t when stdin is not a terminal, with docker's
// message and exit status 1.
func (c *cli) checkInputTTY(stdin, tty bool) error {
	in, ok := c.In.(*os.File)
	if stdin && tty && (!ok || !term.IsTerminal(int(in.Fd()))) {
		return StatusError{Status: "the input device is not a TTY", StatusCode: 1}
	}
	return nil
}

// watchSize sends the terminal's size now and after every SIGWINCH.
func watchSize(f *os.File) (<-chan [2]uint16, func()) {
	out := make(chan [2]uint16, 1)
	winch := make(chan os.Signal, 1)
	signal.Notify(winch, unix.SIGWINCH)
	done := make(chan struct{})
	go func() {
		defer close(out)
		for {
			if ws, err := unix.IoctlGetWinsize(int(f.Fd()), unix.TIOCGWINSZ); err == nil {
				select {
				case out <- [2]uint16{ws.Row, ws.Col}:
				case <-done:
					return
				}
			}
			select {
			case <-winch:
			case <-done:
				return
			}
		}
	}()
	return out, func() { signal.Stop(winch); close(done) }
}

// proxySignals forwards the signals the CLI receives to the container
// (docker's --sig-proxy, for containers without a terminal) until stop.
func proxySignals(e *engine.Engine, id string) (stop func()) {
	ch := make(chan os.Signal, 8)
	var sigs []os.Signal
	for s := unix.Signal(1); s < 32; s++ {
		if !slices.Contains([]unix.Signal{unix.SIGKILL, unix.SIGSTOP, unix.SIGCHLD, unix.SIGWINCH, unix.SIGPIPE, unix.SIGURG}, s) {
			sigs = append(sigs, s)
		}
	}
	signal.Notify(ch, sigs...)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case s := <-ch:
				_ = e.ContainerProxySignal(context.Background(), id, s.(unix.Signal))
			case <-done:
				return
			}
		}
	}()
	return func() { signal.Stop(ch); close(done) }
}

// attachedExit turns an attach's end into the command's: the container's
// exit code, or 0 for a detach (which prints nothing).
func attachedExit(code int, err error) error {
	switch {
	case errors.Is(err, engine.ErrDetached):
		return nil
	case err != nil:
		return err
	case code != 0:
		return StatusError{StatusCode: code}
	}
	return nil
}

// runAttached starts a created container with the CLI attached to it, for
// run -i/-t and start -a -i.
func (c *cli) runAttached(ctx context.Context, e *engine.Engine, id string, stdin, tty bool, f attachFlags) error {
	sess, err := c.newAttachSession(stdin, tty, f.detachKeys)
	if err != nil {
		return err
	}
	defer sess.restore()
	sess.streams.Stdout, sess.streams.Stderr = f.streams.outputs(sess.streams.Stdout, sess.streams.Stderr)
	if f.sigProxy && !tty {
		defer proxySignals(e, id)()
		ctx = context.WithoutCancel(ctx) // a proxied ^C must not end the wait
	}
	return attachedExit(e.ContainerStartAttach(ctx, id, sess.streams))
}

func (c *cli) newAttachCommand() *cobra.Command {
	var f attachFlags
	var noStdin bool
	cmd := &cobra.Command{
		Use:   "attach [OPTIONS] CONTAINER",
		Short: "Attach local standard input, output, and error streams to a running container",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.withEngine(cmd.Context(), func(e *engine.Engine) error {
				insp, err := e.ContainerInspect(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				tty := insp.Config.Tty
				sess, err := c.newAttachSession(insp.Config.OpenStdin && !noStdin, tty, f.detachKeys)
				if err != nil {
					return err
				}
				defer sess.restore()
				ctx := cmd.Context()
				if f.sigProxy && !tty {
					defer proxySignals(e, insp.ID)()
					ctx = context.WithoutCancel(ctx)
				}
				return attachedExit(e.ContainerAttach(ctx, insp.ID, sess.streams))
			})
		},
	}
	f.register(cmd.Flags(), true)
	cmd.Flags().BoolVar(&noStdin, "no-stdin", false, "Do not attach STDIN")
	return cmd
}

// parseDetachKeys parses docker's --detach-keys: comma-separated keys,
// each a single character or ctrl-<x> with x a letter or one of @[\]^_.
func parseDetachKeys(s string) ([]byte, error) {
	var seq []byte
	for _, k := range strings.Split(s, ",") {
		lk := strings.ToLower(k)
		switch {
		case len(k) == 1:
			seq = append(seq, k[0])
		case strings.HasPrefix(lk, "ctrl-") && len(lk) == 6:
			x := lk[5]
			switch {
			case x >= 'a' && x <= 'z':
				seq = append(seq, x-'a'+1)
			case x == '@':
				seq = append(seq, 0)
			case x >= '[' && x <= '_':
				seq = append(seq, x-'['+27)
			default:
				return nil, errdefs.Invalid("invalid detach keys (%s) provided: unknown character %q", s, k)
			}
		default:
			return nil, errdefs.Invalid("invalid detach keys (%s) provided: unknown character %q", s, k)
		}
	}
	return seq, nil
}

// detachReader passes stdin through until it sees the detach sequence,
// then fails with engine.ErrDetached; bytes that begin the sequence are
// held back until it is clear they do not complete it.
type detachReader struct {
	r        io.Reader
	keys     []byte
	matched  int
	pending  []byte
	detached bool
}

func (d *detachReader) Read(p []byte) (int, error) {
	for len(d.pending) == 0 {
		if d.detached {
			return 0, engine.ErrDetached
		}
		buf := make([]byte, len(p))
		n, err := d.r.Read(buf)
		d.scan(buf[:n])
		if err != nil && len(d.pending) == 0 && !d.detached {
			return 0, err
		}
	}
	n := copy(p, d.pending)
	d.pending = d.pending[n:]
	return n, nil
}

// scan moves the bytes read to pending, holding back a partial match.
func (d *detachReader) scan(in []byte) {
	for _, b := range in {
		if b == d.keys[d.matched] {
			d.matched++
			if d.matched == len(d.keys) {
				d.detached = true
				return
			}
			continue
		}
		d.pending = append(d.pending, d.keys[:d.matched]...)
		d.matched = 0
		if b == d.keys[0] {
			d.matched = 1
			continue
		}
		d.pending = append(d.pending, b)
	}
}

// startInteractive is `start -a -i`: the container's stdin, and its
// terminal if it has one, attached to the CLI's.
func (cc *containerCLI) startInteractive(cmd *cobra.Command, ref string, f attachFlags) error {
	return cc.withEngine(cmd.Context(), func(e *engine.Engine) error {
		insp, err := e.ContainerInspect(cmd.Context(), ref)
		if err != nil {
			return err
		}
		return runError(cc.runAttached(cmd.Context(), e, insp.ID, insp.Config.OpenStdin, insp.Config.Tty, f))
	})
}
