package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/strata-containers/strata/internal/engine"
)

// newSystemCommand is `strata system`.
func (c *cli) newSystemCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "system",
		Short: "Manage strata",
		Args:  noArgs,
		RunE:  showHelp(c.Err),
	}
	cmd.AddCommand(c.newCheckCommand(), c.newDFCommand(), c.newSystemInfoCommand(), c.newSystemPruneCommand())
	return cmd
}

// newCheckCommand is `system check`, strata's own: it verifies the store
// and exits 1 if anything is wrong.
func (c *cli) newCheckCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "check",
		Short: "Verify every blob, image and layer in the store",
		Long: `Verify every blob, image and layer in the store

Re-hashes every blob, and checks that each image's manifest, config and
layer blobs are in the content store and its layers in the layer store.
Prints one line per problem and exits with status 1 if there is any.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.withEngine(cmd.Context(), func(e *engine.Engine) error {
				problems, err := e.SystemCheck(cmd.Context())
				for _, p := range problems {
					fmt.Fprintln(c.Out, p)
				}
				if err != nil {
					return err
				}
				if len(problems) > 0 {
					return StatusError{Status: fmt.Sprintf("Error: %d %s found", len(problems), plural("problem", len(problems))), StatusCode: exitFailure}
				}
				fmt.Fprintln(c.Out, "No problems found")
				return nil
			})
		},
	}
}

func (c *cli) newDFCommand() *cobra.Command {
	var verbose bool
	var tmpl string
	cmd := &cobra.Command{
		Use:   "df [OPTIONS]",
		Short: "Show strata disk usage",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.withEngine(cmd.Context(), func(e *engine.Engine) error {
				du, err := e.SystemDF(cmd.Context())
				if err != nil {
					return err
				}
				return writeDiskUsage(c.Out, du, tmpl, verbose)
			})
		},
	}
	cmd.Flags().StringVar(&tmpl, "format", "", formatHelp)
	cmd.Flags().BoolVarP(&verbose, "verbose", "v", false, "Show detailed information on space usage")
	return cmd
}
