package cli

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/strata-containers/strata/internal/engine"
	"github.com/strata-containers/strata/internal/errdefs"
)

// eachContainer runs fn for every argument, printing the argument when
// it succeeded and the errors together at the end, as docker's stop, kill,
// rm and start do.
func (cc *containerCLI) eachContainer(cmd *cobra.Command, args []string, fn func(*engine.Engine, string) error) error {
	return cc.withEngine(cmd.Context(), func(e *engine.Engine) error {
		var errs []string
		for _, ref := range args {
			if err := fn(e, ref); err != nil {
				if cmd.Context().Err() != nil {
					return err
				}
				errs = append(errs, "Error response from daemon: "+err.Error())
				continue
			}
			fmt.Fprintln(cc.Out, ref)
		}
		if len(errs) > 0 {
			return StatusError{Status: strings.Join(errs, "\n"), StatusCode: exitFailure}
		}
		return nil
	})
}

func (cc *containerCLI) newStartCommand() *cobra.Command {
	var attach, interactive bool
	var af attachFlags
	cmd := &cobra.Command{
		Use:   "start [OPTIONS] CONTAINER [CONTAINER...]",
		Short: "Start one or more stopped containers",
		Args:  minArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !attach && !interactive {
				return cc.eachContainer(cmd, args, func(e *engine.Engine, ref string) error {
					_, err := e.ContainerStart(cmd.Context(), ref, false)
					return err
				})
			}
			if len(args) > 1 {
				return errdefs.Invalid("you cannot start and attach multiple containers at once")
			}
			if interactive {
				return cc.startInteractive(cmd, args[0], af)
			}
			return cc.withEngine(cmd.Context(), func(e *engine.Engine) error {
				att, err := e.ContainerStart(cmd.Context(), args[0], true)
				if err != nil {
					return err
				}
				return waitExit(cmd.Context(), att, cc.Out, cc.Err)
			})
		},
	}
	cmd.Flags().BoolVarP(&attach, "attach", "a", false, "Attach STDOUT/STDERR and forward signals")
	cmd.Flags().BoolVarP(&interactive, "interactive", "i", false, "Attach container's STDIN")
	af.register(cmd.Flags(), false)
	af.sigProxy = true
	return cmd
}

func (cc *containerCLI) newStopCommand() *cobra.Command {
	var timeout int
	cmd := &cobra.Command{
		Use:   "stop [OPTIONS] CONTAINER [CONTAINER...]",
		Short: "Stop one or more running containers",
		Args:  minArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return cc.eachContainer(cmd, args, func(e *engine.Engine, ref string) error {
				return e.ContainerStop(cmd.Context(), ref, stopTimeout(cmd, timeout))
			})
		},
	}
	cmd.Flags().IntVarP(&timeout, "time", "t", 10, "Seconds to wait before killing the container")
	cmd.Flags().IntVar(&timeout, "timeout", 10, "Seconds to wait before killing the container")
	_ = cmd.Flags().MarkHidden("timeout")
	return cmd
}

func (cc *containerCLI) newRestartCommand() *cobra.Command {
	var timeout int
	cmd := &cobra.Command{
		Use:   "restart [OPTIONS] CONTAINER [CONTAINER...]",
		Short: "Restart one or more containers",
		Args:  minArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return cc.eachContainer(cmd, args, func(e *engine.Engine, ref string) error {
				return e.ContainerRestart(cmd.Context(), ref, stopTimeout(cmd, timeout))
			})
		},
	}
	cmd.Flags().IntVarP(&timeout, "time", "t", 10, "Seconds to wait before killing the container")
	return cmd
}

func (cc *containerCLI) newKillCommand() *cobra.Command {
	var signal string
	cmd := &cobra.Command{
		Use:   "kill [OPTIONS] CONTAINER [CONTAINER...]",
		Short: "Kill one or more running containers",
		Args:  minArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return cc.eachContainer(cmd, args, func(e *engine.Engine, ref string) error {
				return e.ContainerKill(cmd.Context(), ref, signal)
			})
		},
	}
	cmd.Flags().StringVarP(&signal, "signal", "s", "", "Signal to send to the container")
	return cmd
}

func (cc *containerCLI) newRmCommand() *cobra.Command {
	var force, volumes bool
	cmd := &cobra.Command{
		Use:     "rm [OPTIONS] CONTAINER [CONTAINER...]",
		Aliases: []string{"remove"},
		Short:   "Remove one or more containers",
		Args:    minArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return cc.eachContainer(cmd, args, func(e *engine.Engine, ref string) error {
				remove := e.ContainerRemove
				if volumes {
					remove = e.ContainerRemoveWithVolumes
				}
				err := remove(cmd.Context(), ref, force)
				if force && errdefs.IsNotFound(err) {
					return nil // docker rm -f of a missing container succeeds
				}
				return err
			})
		},
	}
	cmd.Flags().BoolVarP(&force, "force", "f", false, "Force the removal of a running container (uses SIGKILL)")
	cmd.Flags().BoolVarP(&volumes, "volumes", "v", false, "Remove anonymous volumes associated with the container")
	return cmd
}

func (cc *containerCLI) newWaitCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "wait CONTAINER [CONTAINER...]",
		Short: "Block until one or more containers stop, then print their exit codes",
		Args:  minArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return cc.withEngine(cmd.Context(), func(e *engine.Engine) error {
				var errs []string
				for _, ref := range args {
					code, err := e.ContainerWait(cmd.Context(), ref)
					if err != nil {
						errs = append(errs, "Error response from daemon: "+err.Error())
						continue
					}
					fmt.Fprintln(cc.Out, code)
				}
				if len(errs) > 0 {
					return StatusError{Status: strings.Join(errs, "\n"), StatusCode: exitFailure}
				}
				return nil
			})
		},
	}
}

func (cc *containerCLI) newLogsCommand() *cobra.Command {
	var opts engine.LogsOptions
	var tail, since, until string
	cmd := &cobra.Command{
		Use:   "logs [OPTIONS] CONTAINER",
		Short: "Fetch the logs of a container",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if opts.Tail, err = parseTail(tail); err != nil {
				return err
			}
			now := time.Now()
			if opts.Since, err = parseTimestamp(since, now); err != nil {
				return err
			}
			if opts.Until, err = parseTimestamp(until, now); err != nil {
				return err
			}
			return cc.withEngine(cmd.Context(), func(e *engine.Engine) error {
				return e.ContainerLogs(cmd.Context(), args[0], opts, cc.Out, cc.Err)
			})
		},
	}
	fl := cmd.Flags()
	fl.BoolVarP(&opts.Follow, "follow", "f", false, "Follow log output")
	fl.StringVarP(&tail, "tail", "n", "all", `Number of lines to show from the end of the logs`)
	fl.BoolVarP(&opts.Timestamps, "timestamps", "t", false, "Show timestamps")
	fl.StringVar(&since, "since", "", `Show logs since timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)`)
	fl.StringVar(&until, "until", "", `Show logs before a timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)`)
	return cmd
}
