package cli

import (
	"github.com/spf13/cobra"

	"github.com/strata-containers/strata/internal/engine"
)

// fsVerbs are pause, unpause and the commands that read or write a
// container's filesystem: diff, commit, export, cp.
func (cc *containerCLI) fsVerbs() []*cobra.Command {
	return []*cobra.Command{
		cc.newPauseCommand(), cc.newUnpauseCommand(),
	}
}

func (cc *containerCLI) newPauseCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "pause CONTAINER [CONTAINER...]",
		Short: "Pause all processes within one or more containers",
		Args:  minArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return cc.eachContainer(cmd, args, func(e *engine.Engine, ref string) error {
				return e.ContainerPause(cmd.Context(), ref)
			})
		},
	}
}

func (cc *containerCLI) newUnpauseCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "unpause CONTAINER [CONTAINER...]",
		Short: "Unpause all processes within one or more containers",
		Args:  minArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return cc.eachContainer(cmd, args, func(e *engine.Engine, ref string) error {
				return e.ContainerUnpause(cmd.Context(), ref)
			})
		},
	}
}
