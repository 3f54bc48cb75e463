package cli

// `strata runtime …` is strata's OCI runtime (internal/runtime) behind the
// OCI runtime command line, as runc has it, so that tools written for runc
// (the runtime-tools validation suite, through hack/strata-runc) can drive
// it. It is hidden: users run containers with `strata run`.
//
// create exits once the container is "created": its init is a child of the
// create process, started in its own session with no parent-death signal,
// and it no longer reads the sync socket once it reported "created", so it
// outlives create, is reparented to the nearest subreaper and waits on its
// start socket; state observes its exit through its pid and start time.

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/strata-containers/strata/internal/errdefs"
	ociruntime "github.com/strata-containers/strata/internal/runtime"
)

// runtimeCmd holds what the runtime verbs share.
type runtimeCmd struct {
	*cli
	state string // the runtime's state directory; default <runroot>/runtime
}

func (c *cli) newRuntimeCommand() *cobra.Command {
	rc := &runtimeCmd{cli: c}
	cmd := &cobra.Command{
		Use:    "runtime COMMAND",
		Short:  "Run OCI bundles with the OCI runtime command line (runc's)",
		Hidden: true,
		Args:   noArgs,
		RunE:   showHelp(c.Err),
	}
	cmd.PersistentFlags().StringVar(&rc.state, "state", "", "Directory of the runtime's state (default <runroot>/runtime)")
	cmd.AddCommand(rc.newCreateCommand(), rc.newStartCommand(), rc.newStateCommand(),
		rc.newKillCommand(), rc.newDeleteCommand(), rc.newExecCommand())
	cmd.AddCommand(rc.newPauseCommands()...)
	return cmd
}

// runtime opens the runtime on the state directory.
func (rc *runtimeCmd) runtime() (*ociruntime.Runtime, error) {
	dir := rc.state
	if dir == "" {
		dir = filepath.Join(rc.cfg.RunRoot, "runtime")
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("runtime state directory %s: %w", rc.state, err)
	}
	return ociruntime.New(dir)
}

type createOpts struct {
	bundle, pidFile, consoleSocket string
	preserveFDs                    int
}

func (rc *runtimeCmd) newCreateCommand() *cobra.Command {
	var o createOpts
	cmd := &cobra.Command{
		Use:   "create [OPTIONS] CONTAINER-ID",
		Short: "Create a container from an OCI bundle and leave it waiting for start",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return rc.create(cmd, args[0], o)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.bundle, "bundle", "b", ".", "Path to the bundle (config.json and rootfs)")
	f.StringVar(&o.pidFile, "pid-file", "", "File to write the init's pid to")
	f.StringVar(&o.consoleSocket, "console-socket", "", "Unix socket to send the terminal's master to (needs process.terminal)")
	f.IntVar(&o.preserveFDs, "preserve-fds", 0, "Pass this many fds after stdio (3, 4, ...) to the container")
	// runc's flags that change nothing here: strata always pivots and
	// never creates a session keyring.
	f.Bool("no-pivot", false, "Ignored")
	f.Bool("no-new-keyring", false, "Ignored")
	for _, n := range []string{"no-pivot", "no-new-keyring"} {
		_ = f.MarkHidden(n)
	}
	return cmd
}

func (rc *runtimeCmd) create(cmd *cobra.Command, id string, o createOpts) error {
	if o.preserveFDs < 0 {
		return errdefs.Invalid("--preserve-fds %d: must not be negative", o.preserveFDs)
	}
	rt, err := rc.runtime()
	if err != nil {
		return err
	}
	opts := ociruntime.CreateOpts{
		// Pass-through stdio, as runc does without a terminal: the
		// workload writes straight to what create was given.
		Stdin:  asFile(rc.In),
		Stdout: asFile(rc.Out),
		Stderr: asFile(rc.Err),
	}
	for i := range o.preserveFDs {
		opts.ExtraFiles = append(opts.ExtraFiles, os.NewFile(uintptr(3+i), "preserved-"+strconv.Itoa(3+i)))
	}
	if o.pidFile != "" {
		if opts.PidFile, err = filepath.Abs(o.pidFile); err != nil {
			return fmt.Errorf("pid file %s: %w", o.pidFile, err)
		}
	}
	if o.consoleSocket != "" {
		sock, err := dialConsoleSocket(o.consoleSocket)
		if err != nil {
			return err
		}
		defer sock.Close()
		// With a terminal the workload's stdio is the pty's slave.
		opts.Stdin, opts.Stdout, opts.Stderr, opts.ConsoleSocket = nil, nil, nil, sock
	}
	return rt.Create(cmd.Context(), id, o.bundle, opts)
}

// dialConsoleSocket connects to the listener of --console-socket.
func dialConsoleSocket(path string) (*os.File, error) {
	conn, err := net.Dial("unix", path)
	if err != nil {
		return nil, fmt.Errorf("--console-socket: %w", err)
	}
	defer conn.Close()
	f, err := conn.(*net.UnixConn).File()
	if err != nil {
		return nil, fmt.Errorf("--console-socket: %w", err)
	}
	return f, nil
}

// asFile returns the stream as a file, or nil (/dev/null for the
// container) when it is not one, as in tests that run commands in-process.
func asFile(v any) *os.File {
	f, _ := v.(*os.File)
	return f
}

func (rc *runtimeCmd) newStartCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "start CONTAINER-ID",
		Short: "Start the workload of a created container",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := rc.runtime()
			if err != nil {
				return err
			}
			return rt.Start(cmd.Context(), args[0])
		},
	}
}

func (rc *runtimeCmd) newStateCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "state CONTAINER-ID",
		Short: "Print the OCI state of a container as JSON",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := rc.runtime()
			if err != nil {
				return err
			}
			st, err := rt.State(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			enc := json.NewEncoder(rc.Out)
			enc.SetIndent("", "  ")
			return enc.Encode(st)
		},
	}
}

func (rc *runtimeCmd) newKillCommand() *cobra.Command {
	var all bool
	cmd := &cobra.Command{
		Use:   "kill [OPTIONS] CONTAINER-ID [SIGNAL]",
		Short: "Send a signal (default SIGTERM) to a container's init",
		Args:  rangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			sig := unix.SIGTERM
			if len(args) == 2 {
				var err error
				if sig, err = parseSignal(args[1]); err != nil {
					return err
				}
			}
			rt, err := rc.runtime()
			if err != nil {
				return err
			}
			return rt.Kill(cmd.Context(), args[0], sig, all)
		},
	}
	cmd.Flags().BoolVarP(&all, "all", "a", false, "Signal every process of the container, not only its init")
	return cmd
}

// parseSignal accepts what runc does: a number, or a name with or
// without "SIG", in any case.
func parseSignal(s string) (unix.Signal, error) {
	if n, err := strconv.Atoi(s); err == nil {
		if n <= 0 || n > 64 {
			return 0, errdefs.Invalid("signal %q: out of range", s)
		}
		return unix.Signal(n), nil
	}
	name := strings.ToUpper(s)
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	if sig := unix.SignalNum(name); sig != 0 {
		return sig, nil
	}
	return 0, errdefs.Invalid("signal %q: unknown", s)
}

func (rc *runtimeCmd) newDeleteCommand() *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "delete [OPTIONS] CONTAINER-ID",
		Short: "Delete a stopped container (or, with --force, a running one)",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := rc.runtime()
			if err != nil {
				return err
			}
			return rt.Delete(cmd.Context(), args[0], force)
		},
	}
	cmd.Flags().BoolVarP(&force, "force", "f", false, "Kill the container first if it still runs")
	return cmd
}
