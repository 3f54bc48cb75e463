package cli

import (
	"github.com/spf13/cobra"
)

// newPauseCommands are `strata runtime pause|resume`, runc's verbs.
func (rc *runtimeCmd) newPauseCommands() []*cobra.Command {
	pause := &cobra.Command{
		Use:   "pause CONTAINER-ID",
		Short: "Freeze every process of a running container",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := rc.runtime()
			if err != nil {
				return err
			}
			return rt.Pause(cmd.Context(), args[0])
		},
	}
	resume := &cobra.Command{
		Use:   "resume CONTAINER-ID",
		Short: "Thaw a paused container",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := rc.runtime()
			if err != nil {
				return err
			}
			return rt.Resume(cmd.Context(), args[0])
		},
	}
	return []*cobra.Command{pause, resume}
}
