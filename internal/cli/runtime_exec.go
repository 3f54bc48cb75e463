package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/strata-containers/strata/internal/errdefs"
	ociruntime "github.com/strata-containers/strata/internal/runtime"
)

// runtimeExecOpts are the flags of `strata runtime exec`, runc's.
type runtimeExecOpts struct {
	process, cwd, user, pidFile, consoleSocket string
	env, caps                                  []string
	tty, detach, noNewPrivs                    bool
}

func (rc *runtimeCmd) newExecCommand() *cobra.Command {
	var o runtimeExecOpts
	cmd := &cobra.Command{
		Use:   "exec [OPTIONS] CONTAINER-ID [COMMAND [ARG...]]",
		Short: "Run a process in a running container",
		Args:  minArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return rc.exec(cmd, args[0], args[1:], o)
		},
	}
	f := cmd.Flags()
	f.SetInterspersed(false)
	f.StringVarP(&o.process, "process", "p", "", "Path to a process.json (an OCI process) instead of the command and flags")
	f.StringVar(&o.cwd, "cwd", "", "Working directory of the process")
	f.StringArrayVarP(&o.env, "env", "e", nil, "Set an environment variable")
	f.StringVarP(&o.user, "user", "u", "", "UID[:GID] of the process")
	f.StringArrayVarP(&o.caps, "cap", "c", nil, "Add a capability")
	f.BoolVarP(&o.tty, "tty", "t", false, "Give the process a terminal (its master goes to --console-socket)")
	f.StringVar(&o.consoleSocket, "console-socket", "", "Unix socket to send the terminal's master to")
	f.BoolVarP(&o.detach, "detach", "d", false, "Do not wait for the process")
	f.StringVar(&o.pidFile, "pid-file", "", "File to write the process's pid to")
	f.BoolVar(&o.noNewPrivs, "no-new-privs", false, "Set no_new_privs for the process")
	return cmd
}

func (rc *runtimeCmd) exec(cmd *cobra.Command, id string, argv []string, o runtimeExecOpts) error {
	rt, err := rc.runtime()
	if err != nil {
		return err
	}
	proc, err := rc.execProcess(cmd, rt, id, argv, o)
	if err != nil {
		return err
	}
	if proc.Terminal && o.consoleSocket == "" {
		return errdefs.Invalid("--tty needs --console-socket")
	}
	p, err := rt.Exec(cmd.Context(), id, proc, ociruntime.ExecOpts{Stdin: asFile(rc.In), Stdout: asFile(rc.Out), Stderr: asFile(rc.Err)})
	if err != nil {
		return err
	}
	defer p.Close()
	if o.pidFile != "" {
		if err := os.WriteFile(o.pidFile, []byte(strconv.Itoa(p.Pid)), 0o644); err != nil {
			return fmt.Errorf("writing pid file: %w", err)
		}
	}
	if p.Console != nil {
		if err := sendConsole(o.consoleSocket, p.Console); err != nil {
			return err
		}
	}
	if o.detach {
		return nil
	}
	code, err := p.Wait(cmd.Context())
	if err != nil {
		return err
	}
	if code != 0 {
		return StatusError{StatusCode: code}
	}
	return nil
}

// execProcess is the process of --process, or the container's own with
// the command and the flags' changes, as runc builds it.
func (rc *runtimeCmd) execProcess(cmd *cobra.Command, rt *ociruntime.Runtime, id string, argv []string, o runtimeExecOpts) (*specs.Process, error) {
	var proc specs.Process
	if o.process != "" {
		return &proc, readJSON(o.process, &proc)
	}
	if len(argv) == 0 {
		return nil, errdefs.Invalid("no command given, and no --process")
	}
	st, err := rt.State(cmd.Context(), id)
	if err != nil {
		return nil, err
	}
	var spec specs.Spec
	if err := readJSON(filepath.Join(st.Bundle, "config.json"), &spec); err != nil {
		return nil, err
	}
	if spec.Process == nil {
		return nil, errdefs.Invalid("container %q has no process in its spec", id)
	}
	proc = *spec.Process
	proc.Args, proc.Terminal, proc.ConsoleSize = argv, o.tty, nil
	proc.Env = append(proc.Env, o.env...)
	proc.NoNewPrivileges = proc.NoNewPrivileges || o.noNewPrivs
	if o.cwd != "" {
		proc.Cwd = o.cwd
	}
	if o.user != "" {
		if proc.User, err = parseUIDGID(o.user); err != nil {
			return nil, err
		}
	}
	if len(o.caps) > 0 && proc.Capabilities != nil {
		c := proc.Capabilities
		c.Bounding, c.Effective, c.Permitted = append(c.Bounding, o.caps...), append(c.Effective, o.caps...), append(c.Permitted, o.caps...)
	}
	return &proc, nil
}

func parseUIDGID(s string) (specs.User, error) {
	u, g, hasGroup := strings.Cut(s, ":")
	uid, err := strconv.ParseUint(u, 10, 32)
	gid := uint64(0)
	if err == nil && hasGroup {
		gid, err = strconv.ParseUint(g, 10, 32)
	}
	if err != nil {
		return specs.User{}, errdefs.Invalid("--user %q: want UID[:GID]", s)
	}
	return specs.User{UID: uint32(uid), GID: uint32(gid)}, nil
}

func readJSON(path string, v any) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("reading %s: %w", path, err)
	}
	defer f.Close()
	if err := json.NewDecoder(io.LimitReader(f, 16<<20)).Decode(v); err != nil {
		return errdefs.Invalid("%s: %w", path, err)
	}
	return nil
}

// sendConsole passes the terminal's master to the console socket, as runc
// does: the fd in an SCM_RIGHTS message whose payload is its name.
func sendConsole(path string, master *os.File) error {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("console socket: %w", err)
	}
	defer unix.Close(fd)
	if err := unix.Connect(fd, &unix.SockaddrUnix{Name: path}); err != nil {
		return fmt.Errorf("connecting to console socket %s: %w", path, err)
	}
	if err := unix.Sendmsg(fd, []byte(master.Name()), unix.UnixRights(int(master.Fd())), nil, 0); err != nil {
		return fmt.Errorf("sending terminal to %s: %w", path, err)
	}
	return nil
}
