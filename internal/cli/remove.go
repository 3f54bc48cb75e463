package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/strata-containers/strata/internal/engine"
	"github.com/strata-containers/strata/internal/errdefs"
)

// newRemoveCommand is `rmi` or `image rm`.
func (c *cli) newRemoveCommand(verb string) *cobra.Command {
	var opts engine.RemoveOptions
	cmd := &cobra.Command{
		Use:         verb + " [OPTIONS] IMAGE [IMAGE...]",
		Short:       "Remove one or more images",
		Args:        minArgs(1),
		Annotations: map[string]string{annotAliases: "strata image rm, strata image remove, strata rmi"},
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.withEngine(cmd.Context(), func(e *engine.Engine) error {
				return c.removeImages(cmd, e, args, opts)
			})
		},
	}
	if verb == "rm" {
		cmd.Aliases = []string{"remove"}
	}
	cmd.Flags().BoolVarP(&opts.Force, "force", "f", false, "Force removal of the image")
	cmd.Flags().BoolVar(&opts.NoPrune, "no-prune", false, "Do not delete untagged parents")
	return cmd
}

// removeImages removes each name in turn, printing what went; failures are
// reported together at the end. With -f, names that do not exist are
// reported but do not fail the command, as in docker.
func (c *cli) removeImages(cmd *cobra.Command, e *engine.Engine, names []string, opts engine.RemoveOptions) error {
	var errs []string
	fatal := false
	for _, name := range names {
		dels, err := e.ImageRemove(cmd.Context(), name, opts)
		for _, d := range dels {
			if d.Deleted != "" {
				fmt.Fprintf(c.Out, "Deleted: %s\n", d.Deleted)
			} else {
				fmt.Fprintf(c.Out, "Untagged: %s\n", d.Untagged)
			}
		}
		if err != nil {
			if cmd.Context().Err() != nil {
				return err
			}
			fatal = fatal || !errdefs.IsNotFound(err)
			errs = append(errs, "Error: "+err.Error())
		}
	}
	if len(errs) == 0 {
		return nil
	}
	msg := strings.Join(errs, "\n")
	if !opts.Force || fatal {
		return StatusError{Status: msg, StatusCode: exitFailure}
	}
	fmt.Fprintln(c.Err, msg)
	return nil
}

// newTagCommand is `tag` or `image tag`.
func (c *cli) newTagCommand(verb string) *cobra.Command {
	return &cobra.Command{
		Use:         verb + " SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]",
		Short:       "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE",
		Args:        exactArgs(2),
		Annotations: map[string]string{annotAliases: "strata image tag, strata tag"},
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.withEngine(cmd.Context(), func(e *engine.Engine) error {
				return e.ImageTag(cmd.Context(), args[0], args[1])
			})
		},
	}
}
