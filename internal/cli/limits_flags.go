package cli

import (
	"fmt"
	"time"

	units "github.com/docker/go-units"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/strata-containers/strata/internal/engine"
)

// limitFlags are the run/create flags of limits and process options
// beyond createFlags' basic ones (issue 3: limits and security flags).
type limitFlags struct {
	ulimits                                listFlag
	cpusetCpus, memorySwap, memReservation string
	stopSignal                             string
	blkioWeight                            uint16
	stopTimeout                            int
	init, oomKillDisable                   bool
}

func (f *limitFlags) register(fl *pflag.FlagSet) {
	fl.Var(&f.ulimits, "ulimit", "Ulimit options")
	fl.StringVar(&f.cpusetCpus, "cpuset-cpus", "", "CPUs in which to allow execution (0-3, 0,1)")
	fl.StringVar(&f.memorySwap, "memory-swap", "", "Swap limit equal to memory plus swap: '-1' to enable unlimited swap")
	fl.StringVar(&f.memReservation, "memory-reservation", "", "Memory soft limit")
	fl.Uint16Var(&f.blkioWeight, "blkio-weight", 0, "Block IO (relative weight), between 10 and 1000, or 0 to disable (default 0)")
	fl.StringVar(&f.stopSignal, "stop-signal", "", "Signal to stop the container")
	fl.IntVar(&f.stopTimeout, "stop-timeout", 0, "Timeout (in seconds) to stop a container")
	fl.BoolVar(&f.init, "init", false, "Run an init inside the container that forwards signals and reaps processes")
	fl.BoolVar(&f.oomKillDisable, "oom-kill-disable", false, "Disable OOM Killer")
}

// apply parses the flags into o; bad values are usage errors, with
// docker's words. Options this host cannot honour are dropped with
// docker's warning on stderr.
func (f *limitFlags) apply(cmd *cobra.Command, o *engine.LimitOptions) error {
	for _, v := range f.ulimits.values {
		u, err := engine.ParseUlimit(v)
		if err != nil {
			return flagError(cmd, err)
		}
		o.Ulimits = append(o.Ulimits, u)
	}
	var err error
	if o.MemorySwap, err = parseMemSwap(f.memorySwap); err != nil {
		return flagError(cmd, err)
	}
	if f.memReservation != "" {
		if o.MemoryReservation, err = units.RAMInBytes(f.memReservation); err != nil {
			return flagError(cmd, fmt.Errorf("invalid argument %q for \"--memory-reservation\" flag: invalid size: '%s'", f.memReservation, f.memReservation))
		}
	}
	o.CpusetCpus, o.StopSignal, o.Init, o.OomKillDisable = f.cpusetCpus, f.stopSignal, f.init, f.oomKillDisable
	o.BlkioWeight = f.blkioWeight
	if o.BlkioWeight > 0 && !engine.BlkioWeightSupported() {
		fmt.Fprintln(cmd.ErrOrStderr(), "WARNING: Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded.")
		o.BlkioWeight = 0
	}
	if cmd.Flags().Changed("stop-timeout") {
		t := f.stopTimeout
		o.StopTimeout = &t
	}
	if f.oomKillDisable {
		fmt.Fprintln(cmd.ErrOrStderr(), "WARNING: --oom-kill-disable is recorded but not applied: the container's OOM killer stays on.")
	}
	return nil
}

// parseMemSwap parses --memory-swap: "-1" is unlimited.
func parseMemSwap(v string) (int64, error) {
	if v == "" {
		return 0, nil
	}
	if v == "-1" {
		return -1, nil
	}
	n, err := units.RAMInBytes(v)
	if err != nil {
		return 0, fmt.Errorf("invalid argument %q for \"--memory-swap\" flag: invalid size: '%s'", v, v)
	}
	return n, nil
}

// stopTimeout is stop's and restart's -t: the container's own
// --stop-timeout unless given.
func stopTimeout(cmd *cobra.Command, seconds int) time.Duration {
	if !cmd.Flags().Changed("time") && !cmd.Flags().Changed("timeout") {
		return engine.StopTimeoutUnset
	}
	return time.Duration(seconds) * time.Second
}

// psSize is ps's SIZE column, docker's "2B (virtual 4.26MB)".
func psSize(c engine.ContainerSummary) string {
	rw := units.HumanSizeWithPrecision(float64(c.SizeRw), 3)
	if c.SizeRootFs > 0 {
		return rw + " (virtual " + units.HumanSizeWithPrecision(float64(c.SizeRootFs), 3) + ")"
	}
	return rw
}
