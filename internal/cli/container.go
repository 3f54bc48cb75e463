package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/strata-containers/strata/internal/engine"
	"github.com/strata-containers/strata/internal/errdefs"
)

// Exit codes of docker run when the container could not run its command.
const (
	exitRunFailed     = 125 // the engine failed (no such image, a conflict, ...)
	exitCannotExecute = 126
	exitNotFound      = 127
)

// containerCommands are the container verbs at the top level and the
// `container` management command. lookupEnv resolves `-e KEY` without a
// value from the CLI's environment, as docker does.
func (c *cli) containerCommands(lookupEnv func(string) (string, bool)) []*cobra.Command {
	cc := &containerCLI{cli: c, lookupEnv: lookupEnv}
	mgmt := &cobra.Command{Use: "container", Short: "Manage containers", Args: noArgs, RunE: showHelp(c.Err)}
	mgmt.AddCommand(cc.verbs("")...)
	mgmt.AddCommand(cc.newPsCommand("ls", ""), cc.newContainerInspectCommand(), cc.newContainerPruneCommand())
	return append(cc.verbs("top"), mgmt, cc.newPsCommand("ps", "3"))
}

type containerCLI struct {
	*cli
	lookupEnv func(string) (string, bool)
}

// verbs are the commands that exist both at the top level and under
// `container`.
func (cc *containerCLI) verbs(where string) []*cobra.Command {
	run, exec := cc.newRunCommand(), cc.newExecCommand()
	if where == "top" {
		run.Annotations = map[string]string{annotTop: "1"}
		exec.Annotations = map[string]string{annotTop: "2"} // docker's place for it
	}
	verbs := []*cobra.Command{
		run, cc.newCreateCommand(), cc.newStartCommand(), cc.newStopCommand(), cc.newRestartCommand(),
		cc.newKillCommand(), cc.newRmCommand(), cc.newWaitCommand(), cc.newLogsCommand(), exec,
		cc.newAttachCommand(),
	}
	verbs = append(verbs, cc.manageVerbs()...) // container_manage.go
	return append(verbs, cc.fsVerbs()...)      // container_fs.go
}

// createFlags are the flags of create and run.
type createFlags struct {
	name, workdir, user, hostname, network, entrypoint string
	memory, cpus                                       string
	cpuShares, pidsLimit                               int64
	env, envFile, labels, capAdd, capDrop              listFlag
	rm, privileged, readOnly                           bool
	cidfile                                            string
	mounts                                             mountFlags
	limits                                             limitFlags // limits_flags.go
	tty                                                ttyFlags   // attach.go
	net                                                netFlags   // network.go
	devices                                            deviceListFlag
	userns                                             usernsFlags // userns_flags.go
}

func (f *createFlags) register(fl *pflag.FlagSet) {
	fl.SetInterspersed(false) // what follows the image is the command's
	fl.StringVar(&f.name, "name", "", "Assign a name to the container")
	fl.VarP(&f.env, "env", "e", "Set environment variables")
	fl.Var(&f.envFile, "env-file", "Read in a file of environment variables")
	fl.StringVarP(&f.workdir, "workdir", "w", "", "Working directory inside the container")
	fl.StringVarP(&f.user, "user", "u", "", "Username or UID (format: <name|uid>[:<group|gid>])")
	fl.StringVar(&f.entrypoint, "entrypoint", "", "Overwrite the default ENTRYPOINT of the image")
	fl.Bool("help", false, "Print usage") // frees -h for --hostname, as in docker
	_ = fl.MarkHidden("help")
	fl.StringVarP(&f.hostname, "hostname", "h", "", "Container host name")
	fl.VarP(&f.labels, "label", "l", "Set meta data on a container")
	fl.StringVar(&f.cidfile, "cidfile", "", "Write the container ID to the file")
	fl.StringVarP(&f.memory, "memory", "m", "", "Memory limit")
	fl.StringVar(&f.cpus, "cpus", "", "Number of CPUs")
	fl.Int64VarP(&f.cpuShares, "cpu-shares", "c", 0, "CPU shares (relative weight)")
	fl.Int64Var(&f.pidsLimit, "pids-limit", 0, "Tune container pids limit (set -1 for unlimited)")
	fl.Var(&f.capAdd, "cap-add", "Add Linux capabilities")
	fl.Var(&f.capDrop, "cap-drop", "Drop Linux capabilities")
	fl.BoolVar(&f.rm, "rm", false, "Automatically remove the container and its associated anonymous volumes when it exits")
	fl.BoolVar(&f.privileged, "privileged", false, "Give extended privileges to this container")
	fl.BoolVar(&f.readOnly, "read-only", false, "Mount the container's root filesystem as read only")
	fl.StringVar(&f.network, "network", "", "Connect a container to a network (bridge, host, none, container:<name|id>, <network>)")
	fl.Var(&f.devices, "device", "Add a host device to the container")
	f.mounts.register(fl)
	f.limits.register(fl)
	f.tty.register(fl)
	f.net.register(fl)
	f.userns.register(fl)
}

// options turns the flags and arguments (IMAGE [COMMAND] [ARG...]) into
// the engine's options; bad values are usage errors.
func (f *createFlags) options(cmd *cobra.Command, args []string, lookupEnv func(string) (string, bool)) (engine.ContainerCreateOptions, error) {
	o := engine.ContainerCreateOptions{
		Image: args[0], Args: args[1:], Name: f.name, WorkingDir: f.workdir, User: f.user,
		Hostname: f.hostname, NetworkMode: f.network, CapAdd: f.capAdd.values, CapDrop: f.capDrop.values,
		AutoRemove: f.rm, Privileged: f.privileged, ReadOnly: f.readOnly,
		CPUShares: f.cpuShares, PidsLimit: f.pidsLimit, Labels: map[string]string{},
		MountOptions: f.mounts.options(),
		Network:      f.net.options(),
		Devices:      f.devices.devices,
		Userns:       f.userns.options(),
	}
	if cmd.Flags().Changed("entrypoint") {
		o.EntrypointSet = true
		if f.entrypoint != "" {
			o.Entrypoint = []string{f.entrypoint}
		}
	}
	if err := f.tty.apply(&o, f.tty.detach); err != nil {
		return o, flagError(cmd, err)
	}
	var err error
	if f.memory != "" {
		if o.Memory, err = engine.ParseMemory(f.memory); err != nil {
			return o, flagError(cmd, err)
		}
	}
	if f.cpus != "" {
		if o.NanoCPUs, err = engine.ParseCPUs(f.cpus); err != nil {
			return o, flagError(cmd, err)
		}
	}
	if err := f.limits.apply(cmd, &o.Limits); err != nil {
		return o, err
	}
	if o.Env, err = engine.ParseEnv(f.env.values, f.envFile.values, lookupEnv); err != nil {
		return o, err
	}
	for _, l := range f.labels.values {
		k, v, _ := strings.Cut(l, "=")
		o.Labels[k] = v
	}
	return o, nil
}

// create creates the container and writes --cidfile.
func (cc *containerCLI) create(cmd *cobra.Command, e *engine.Engine, f *createFlags, args []string) (string, error) {
	opts, err := f.options(cmd, args, cc.lookupEnv)
	if err != nil {
		return "", err
	}
	if f.cidfile != "" {
		if _, err := os.Stat(f.cidfile); err == nil {
			return "", errdefs.Conflict("container ID file found, make sure the other container isn't running or delete %s", f.cidfile)
		}
	}
	id, err := e.ContainerCreate(cmd.Context(), opts)
	if err != nil {
		return "", err
	}
	if f.cidfile != "" {
		if err := os.WriteFile(f.cidfile, []byte(id), 0o644); err != nil {
			return id, fmt.Errorf("writing the container ID file: %w", err)
		}
	}
	return id, nil
}

func (cc *containerCLI) newCreateCommand() *cobra.Command {
	var f createFlags
	cmd := &cobra.Command{
		Use:   "create [OPTIONS] IMAGE [COMMAND] [ARG...]",
		Short: "Create a new container",
		Args:  minArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runError(cc.withEngine(cmd.Context(), func(e *engine.Engine) error {
				id, err := cc.create(cmd, e, &f, args)
				if err == nil {
					fmt.Fprintln(cc.Out, id)
				}
				return err
			}))
		},
	}
	f.register(cmd.Flags())
	return cmd
}

func (cc *containerCLI) newRunCommand() *cobra.Command {
	var f createFlags
	var af attachFlags
	cmd := &cobra.Command{
		Use:   "run [OPTIONS] IMAGE [COMMAND] [ARG...]",
		Short: "Create and run a new container from an image",
		Args:  minArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runError(cc.withEngine(cmd.Context(), func(e *engine.Engine) error {
				return cc.run(cmd, e, &f, args, af)
			}))
		},
	}
	cmd.Flags().BoolVarP(&f.tty.detach, "detach", "d", false, "Run container in background and print container ID")
	f.register(cmd.Flags())
	af.register(cmd.Flags(), true)
	return cmd
}

func (cc *containerCLI) run(cmd *cobra.Command, e *engine.Engine, f *createFlags, args []string, af attachFlags) error {
	ctx := cmd.Context()
	detach := f.tty.detach
	if err := cc.checkInputTTY(!detach && f.tty.interactive, f.tty.tty); err != nil {
		return err // before anything is created, as in docker
	}
	id, err := cc.create(cmd, e, f, args)
	if err != nil {
		return err
	}
	af.streams = &f.tty // -a stdout/stderr: attach.go
	if !detach && (f.tty.interactive || f.tty.tty) {
		err := cc.runAttached(ctx, e, id, f.tty.interactive, f.tty.tty, af)
		var se StatusError
		if err != nil && !errors.As(err, &se) && f.rm {
			_ = e.ContainerRemove(ctx, id, true) // it never ran
		}
		return err
	}
	if !detach && af.sigProxy {
		defer proxySignals(e, id)()
		ctx = context.WithoutCancel(ctx) // a proxied ^C must not end the wait
	}
	att, err := e.ContainerStart(ctx, id, !detach)
	if err != nil {
		if f.rm {
			_ = e.ContainerRemoveWithVolumes(ctx, id, true)
		}
		return err
	}
	if detach {
		fmt.Fprintln(cc.Out, id)
		return nil
	}
	out, errw := f.tty.outputs(cc.Out, cc.Err)
	return waitExit(ctx, att, out, errw)
}

// waitExit streams an attached container's output and turns its exit code
// into the command's.
func waitExit(ctx context.Context, att *engine.Attached, out, errw io.Writer) error {
	code, err := att.Wait(ctx, out, errw)
	if err != nil {
		return err
	}
	if code != 0 {
		return StatusError{StatusCode: code}
	}
	return nil
}

// runError gives a failure of create, run or start docker run's exit code:
// 127 and 126 when the command could not be found or run, 125 for any
// other failure of the engine. Usage errors keep theirs.
func runError(err error) error {
	if err == nil {
		return nil
	}
	var se StatusError
	if errors.As(err, &se) {
		return err
	}
	code := exitRunFailed
	switch {
	case errors.Is(err, engine.ErrExecNotFound):
		code = exitNotFound
	case errors.Is(err, engine.ErrExecDenied):
		code = exitCannotExecute
	}
	return StatusError{Status: "strata: Error: " + err.Error(), StatusCode: code}
}
