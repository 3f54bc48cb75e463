package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	units "github.com/docker/go-units"
	"github.com/spf13/cobra"

	"github.com/strata-containers/strata/internal/engine"
)

// manageVerbs are top, stats, update and rename, at the top level and
// under `container`.
func (cc *containerCLI) manageVerbs() []*cobra.Command {
	return []*cobra.Command{cc.newTopCommand(), cc.newStatsCommand(), cc.newUpdateCommand(), cc.newRenameCommand()}
}

func (cc *containerCLI) newTopCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "top CONTAINER [ps OPTIONS]",
		Short: "Display the running processes of a container",
		Args:  minArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return cc.withEngine(cmd.Context(), func(e *engine.Engine) error {
				res, err := e.ContainerTop(cmd.Context(), args[0], strings.Join(args[1:], " "))
				if err != nil {
					return daemonError(err)
				}
				return writeTop(cc.Out, res)
			})
		},
	}
	cmd.Flags().SetInterspersed(false) // what follows the container is ps's
	return cmd
}

// writeTop prints top's table as docker does: tab-separated, aligned.
func writeTop(out io.Writer, res engine.ContainerTopResult) error {
	tw := tabwriter.NewWriter(out, 20, 1, 3, ' ', 0)
	fmt.Fprintln(tw, strings.Join(res.Titles, "\t"))
	for _, p := range res.Processes {
		fmt.Fprintln(tw, strings.Join(p, "\t"))
	}
	return tw.Flush()
}

func (cc *containerCLI) newRenameCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "rename CONTAINER NEW_NAME",
		Short: "Rename a container",
		Args:  exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return cc.withEngine(cmd.Context(), func(e *engine.Engine) error {
				return daemonError(e.ContainerRename(cmd.Context(), args[0], args[1]))
			})
		},
	}
}

// updateFlags are update's flags, docker's names.
type updateFlags struct {
	memory, memorySwap, memReservation, cpus, cpusetCpus string
	cpuShares, pidsLimit                                 int64
	blkioWeight                                          uint16
}

func (cc *containerCLI) newUpdateCommand() *cobra.Command {
	var f updateFlags
	cmd := &cobra.Command{
		Use:   "update [OPTIONS] CONTAINER [CONTAINER...]",
		Short: "Update configuration of one or more containers",
		Args:  minArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o, err := f.options(cmd)
			if err != nil {
				return err
			}
			return cc.eachContainer(cmd, args, func(e *engine.Engine, ref string) error {
				return e.ContainerUpdate(cmd.Context(), ref, o)
			})
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.memory, "memory", "m", "", "Memory limit")
	fl.StringVar(&f.memorySwap, "memory-swap", "", "Swap limit equal to memory plus swap: -1 to enable unlimited swap")
	fl.StringVar(&f.memReservation, "memory-reservation", "", "Memory soft limit")
	fl.StringVar(&f.cpus, "cpus", "", "Number of CPUs")
	fl.Int64VarP(&f.cpuShares, "cpu-shares", "c", 0, "CPU shares (relative weight)")
	fl.StringVar(&f.cpusetCpus, "cpuset-cpus", "", "CPUs in which to allow execution (0-3, 0,1)")
	fl.Int64Var(&f.pidsLimit, "pids-limit", 0, "Tune container pids limit (set -1 for unlimited)")
	fl.Uint16Var(&f.blkioWeight, "blkio-weight", 0, "Block IO (relative weight), between 10 and 1000, or 0 to disable (default 0)")
	return cmd
}

// options turns the flags given into the engine's options; a flag not
// given leaves its limit alone.
func (f *updateFlags) options(cmd *cobra.Command) (engine.ContainerUpdateOptions, error) {
	var o engine.ContainerUpdateOptions
	fl := cmd.Flags()
	changed := false
	for _, name := range []string{"memory", "memory-swap", "memory-reservation", "cpus", "cpu-shares", "cpuset-cpus", "pids-limit", "blkio-weight"} {
		changed = changed || fl.Changed(name)
	}
	if !changed {
		return o, StatusError{Status: "You must provide one or more flags when using this command.", StatusCode: exitFailure}
	}
	parse := func(name, v string, fn func(string) (int64, error)) (*int64, error) {
		if !fl.Changed(name) {
			return nil, nil
		}
		n, err := fn(v)
		if err != nil {
			return nil, flagError(cmd, err)
		}
		return &n, nil
	}
	var err error
	if o.Memory, err = parse("memory", f.memory, engine.ParseMemory); err != nil {
		return o, err
	}
	if o.MemorySwap, err = parse("memory-swap", f.memorySwap, parseMemSwap); err != nil {
		return o, err
	}
	if o.MemoryReservation, err = parse("memory-reservation", f.memReservation, units.RAMInBytes); err != nil {
		return o, err
	}
	if o.NanoCPUs, err = parse("cpus", f.cpus, engine.ParseCPUs); err != nil {
		return o, err
	}
	if fl.Changed("cpu-shares") {
		o.CPUShares = &f.cpuShares
	}
	if fl.Changed("pids-limit") {
		o.PidsLimit = &f.pidsLimit
	}
	if fl.Changed("cpuset-cpus") {
		o.CpusetCpus = &f.cpusetCpus
	}
	if fl.Changed("blkio-weight") {
		o.BlkioWeight = &f.blkioWeight
	}
	return o, nil
}

const statsTableFormat = "table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}"

var statsHeader = map[string]string{
	"Container": "CONTAINER", "ID": "CONTAINER ID", "Name": "NAME", "CPUPerc": "CPU %",
	"MemUsage": "MEM USAGE / LIMIT", "MemPerc": "MEM %", "NetIO": "NET I/O", "BlockIO": "BLOCK I/O", "PIDs": "PIDS",
}

// noStreamInterval is how far apart the two readings of `stats
// --no-stream` are: CPU % is the CPU time used between them.
const noStreamInterval = 250 * time.Millisecond

// streamInterval is how often streaming stats redraws, docker's second.
const streamInterval = time.Second

func (cc *containerCLI) newStatsCommand() *cobra.Command {
	var all, noStream, noTrunc bool
	var tmpl string
	cmd := &cobra.Command{
		Use:   "stats [OPTIONS] [CONTAINER...]",
		Short: "Display a live stream of container(s) resource usage statistics",
		RunE: func(cmd *cobra.Command, args []string) error {
			return cc.withEngine(cmd.Context(), func(e *engine.Engine) error {
				s := statsRun{e: e, refs: args, all: all, tmpl: tmpl, trunc: !noTrunc, out: cc.Out}
				if noStream {
					return daemonError(s.once(cmd.Context()))
				}
				return daemonError(s.stream(cmd.Context()))
			})
		},
	}
	fl := cmd.Flags()
	fl.BoolVarP(&all, "all", "a", false, "Show all containers (default shows just running)")
	fl.BoolVar(&noStream, "no-stream", false, "Disable streaming stats and only pull the first result")
	fl.BoolVar(&noTrunc, "no-trunc", false, "Do not truncate output")
	fl.StringVar(&tmpl, "format", "", formatHelp)
	return cmd
}

// daemonError words an engine error as docker's CLI words the daemon's
// ("Error response from daemon: ..."), keeping its exit code.
func daemonError(err error) error {
	if err == nil || errors.Is(err, context.Canceled) {
		return err
	}
	var se StatusError
	if errors.As(err, &se) {
		return err
	}
	return StatusError{Status: "Error response from daemon: " + err.Error(), StatusCode: ExitCode(err)}
}

// sleep waits d or until ctx ends; it reports whether ctx is still alive.
func sleep(ctx context.Context, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(d):
		return true
	}
}
