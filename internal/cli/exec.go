package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/strata-containers/strata/internal/engine"
	"github.com/strata-containers/strata/internal/errdefs"
)

// execFlags are docker exec's flags.
type execFlags struct {
	detach, interactive, tty, privileged bool
	env, envFile                         listFlag
	user, workdir, detachKeys            string
}

func (cc *containerCLI) newExecCommand() *cobra.Command {
	var f execFlags
	cmd := &cobra.Command{
		Use:   "exec [OPTIONS] CONTAINER COMMAND [ARG...]",
		Short: "Execute a command in a running container",
		Args:  minArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if args[0] == execHoldVerb { // exec_detach.go
				return holdConsole()
			}
			return cc.exec(cmd, args[0], args[1:], f)
		},
	}
	fl := cmd.Flags()
	fl.SetInterspersed(false) // what follows the container is the command's
	fl.BoolVarP(&f.detach, "detach", "d", false, "Detached mode: run command in the background")
	fl.BoolVarP(&f.interactive, "interactive", "i", false, "Keep STDIN open even if not attached")
	fl.BoolVarP(&f.tty, "tty", "t", false, "Allocate a pseudo-TTY")
	fl.VarP(&f.env, "env", "e", "Set environment variables")
	fl.Var(&f.envFile, "env-file", "Read in a file of environment variables")
	fl.StringVarP(&f.user, "user", "u", "", "Username or UID (format: <name|uid>[:<group|gid>])")
	fl.StringVarP(&f.workdir, "workdir", "w", "", "Working directory inside the container")
	fl.BoolVar(&f.privileged, "privileged", false, "Give extended privileges to the command")
	fl.StringVar(&f.detachKeys, "detach-keys", "", "Override the key sequence for detaching a container")
	return cmd
}

func (cc *containerCLI) exec(cmd *cobra.Command, ref string, argv []string, f execFlags) error {
	env, err := engine.ParseEnv(f.env.values, f.envFile.values, cc.lookupEnv)
	if err != nil {
		return err
	}
	opts := engine.ContainerExecOptions{
		Cmd: argv, Env: env, User: f.user, WorkingDir: f.workdir, Privileged: f.privileged, Tty: f.tty,
	}
	keys, err := execDetachKeys(f.detachKeys)
	if err != nil {
		return err
	}
	var stdio *execStdio
	if !f.detach {
		if stdio, err = newExecStdio(cc.In, cc.Out, cc.Err, f.interactive, f.tty, keys); err != nil {
			return err
		}
		defer stdio.close()
		opts.Stdin, opts.Stdout, opts.Stderr = stdio.in, stdio.out, stdio.err
		opts.Height, opts.Width = stdio.size()
	}
	return cc.withEngine(cmd.Context(), func(e *engine.Engine) error {
		x, err := e.ContainerExec(cmd.Context(), ref, opts)
		if err != nil {
			return execError(err)
		}
		defer x.Close()
		if f.detach {
			return nil
		}
		code, err := stdio.relay(cmd.Context(), x)
		if errors.Is(err, engine.ErrDetached) {
			return holdTerminal(x.Console)
		}
		if err != nil {
			return err
		}
		if code != 0 {
			return StatusError{StatusCode: code}
		}
		return nil
	})
}

// execError words a failed exec as docker does: 127 when the command is
// not found, the daemon's message and 1 for a container that is missing
// or not running (or a user that is), 126 when the process could not be
// started as asked (a missing working directory, a command that cannot
// run, ...).
func execError(err error) error {
	switch {
	case errors.Is(err, context.Canceled):
		return err
	case errors.Is(err, engine.ErrExecNotFound):
		return StatusError{Status: "OCI runtime exec failed: " + err.Error(), StatusCode: exitNotFound}
	case errdefs.IsNotFound(err), errdefs.IsConflict(err):
		return StatusError{Status: "Error response from daemon: " + err.Error(), StatusCode: exitFailure}
	}
	return StatusError{Status: "OCI runtime exec failed: " + err.Error(), StatusCode: exitCannotExecute}
}

// execStdio are the process's stdio: the CLI's own files where it has
// them (passed through, no copy), pipes copied to its streams otherwise
// (commands run in-process by tests).
type execStdio struct {
	in, out, err *os.File
	tty          bool
	termIn       *os.File // the CLI's stdin, when it is a terminal and -t -i
	userIn       io.Reader
	userOut      io.Writer
	copies       []chan struct{}
	closers      []*os.File
}

func newExecStdio(in io.Reader, out, errw io.Writer, interactive, tty bool, keys []byte) (*execStdio, error) {
	s := &execStdio{tty: tty, userOut: out}
	if interactive {
		s.userIn = in
	}
	if tty {
		if interactive {
			s.userIn = &detachReader{r: in, keys: keys} // attach.go
		}
		if f := asFile(in); interactive && f != nil && term.IsTerminal(int(f.Fd())) {
			s.termIn = f
		}
		return s, nil
	}
	var err error
	if interactive {
		if s.in, err = s.readPipe(in); err != nil {
			return nil, err
		}
	}
	if s.out, err = s.writePipe(out); err != nil {
		s.close()
		return nil, err
	}
	if s.err, err = s.writePipe(errw); err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

// writePipe returns w itself when it is a file, or the write end of a
// pipe copied to w.
func (s *execStdio) writePipe(w io.Writer) (*os.File, error) {
	if f := asFile(w); f != nil {
		return f, nil
	}
	r, pw, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	done := make(chan struct{})
	go func() { io.Copy(w, r); r.Close(); close(done) }()
	s.copies = append(s.copies, done)
	s.closers = append(s.closers, pw)
	return pw, nil
}

func (s *execStdio) readPipe(r io.Reader) (*os.File, error) {
	if f := asFile(r); f != nil {
		return f, nil
	}
	pr, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	go func() { io.Copy(w, r); w.Close() }()
	s.closers = append(s.closers, pr)
	return pr, nil
}

// size is the CLI's terminal size, for the process's terminal.
func (s *execStdio) size() (height, width uint) {
	for _, v := range []any{s.userOut, s.termIn} {
		if f := asFile(v); f != nil {
			if w, h, err := term.GetSize(int(f.Fd())); err == nil {
				return uint(h), uint(w)
			}
		}
	}
	return 0, 0
}

// close closes this process's copies of the pipe ends the exec'd process
// holds, so that the copies end when it does.
func (s *execStdio) close() {
	for _, f := range s.closers {
		f.Close()
	}
	s.closers = nil
}

// relay waits for the process, relaying its terminal with -t, and
// returns its exit code once its output is all written, or
// engine.ErrDetached when the user typed the detach keys.
func (s *execStdio) relay(ctx context.Context, x *engine.Exec) (int, error) {
	s.close()
	if s.tty {
		if err := s.relayTerminal(x); err != nil {
			return -1, err
		}
	}
	code, err := x.Wait(ctx)
	for _, done := range s.copies {
		<-done
	}
	return code, err
}

// relayTerminal copies the terminal to the CLI's streams until the
// process and its children close it, or until the user types the detach
// keys (engine.ErrDetached), with the CLI's terminal in raw mode
// (restored after) and its size changes forwarded.
func (s *execStdio) relayTerminal(x *engine.Exec) error {
	if s.termIn != nil {
		old, err := term.MakeRaw(int(s.termIn.Fd()))
		if err != nil {
			return fmt.Errorf("setting the terminal to raw mode: %w", err)
		}
		defer term.Restore(int(s.termIn.Fd()), old)
	}
	winch := make(chan os.Signal, 1)
	signal.Notify(winch, syscall.SIGWINCH)
	defer signal.Stop(winch)
	go func() {
		for range winch {
			if h, w := s.size(); h > 0 {
				x.Resize(h, w)
			}
		}
	}()
	detached := make(chan struct{})
	if s.userIn != nil {
		// Ends with the CLI: a read from the user's stdin cannot be
		// interrupted portably.
		go func() {
			if _, err := io.Copy(x.Console, s.userIn); errors.Is(err, engine.ErrDetached) {
				close(detached)
			}
		}()
	}
	// EIO once every holder of the terminal's slave has closed it.
	closed := make(chan struct{})
	go func() { io.Copy(s.userOut, x.Console); close(closed) }()
	select {
	case <-closed:
		return nil
	case <-detached:
		return engine.ErrDetached
	}
}
