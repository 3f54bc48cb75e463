package cli

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/strata-containers/strata/internal/cli/format"
	"github.com/strata-containers/strata/internal/engine"
)

const (
	pruneDanglingWarning = "WARNING! This will remove all dangling images.\nAre you sure you want to continue?"
	pruneAllWarning      = "WARNING! This will remove all images without at least one container associated to them.\nAre you sure you want to continue?"
)

type pruneOptions struct {
	all, force bool
	filter     *filterFlag
}

// newImagePruneCommand is `image prune`.
func (c *cli) newImagePruneCommand() *cobra.Command {
	opts := pruneOptions{filter: newFilterFlag()}
	cmd := &cobra.Command{
		Use:   "prune [OPTIONS]",
		Short: "Remove unused images",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			warning := pruneDanglingWarning
			if opts.all {
				warning = pruneAllWarning
			}
			if !opts.force && !c.confirm(warning) {
				fmt.Fprintln(c.Out, "Total reclaimed space: 0B")
				return nil
			}
			return c.withEngine(cmd.Context(), func(e *engine.Engine) error {
				return c.pruneImages(cmd, e, opts)
			})
		},
	}
	fl := cmd.Flags()
	fl.BoolVarP(&opts.all, "all", "a", false, "Remove all unused images, not just dangling ones")
	fl.Var(opts.filter, "filter", `Provide filter values (e.g. "until=<timestamp>")`)
	fl.BoolVarP(&opts.force, "force", "f", false, "Do not prompt for confirmation")
	return cmd
}

// pruneImages prunes and prints docker's report.
func (c *cli) pruneImages(cmd *cobra.Command, e *engine.Engine, opts pruneOptions) error {
	rep, err := e.ImagePrune(cmd.Context(), engine.PruneOptions{All: opts.all, Filters: opts.filter.f})
	if err != nil {
		return err
	}
	if len(rep.ImagesDeleted) > 0 {
		var b strings.Builder
		b.WriteString("Deleted Images:\n")
		for _, d := range rep.ImagesDeleted {
			if d.Untagged != "" {
				fmt.Fprintf(&b, "untagged: %s\n", d.Untagged)
			} else {
				fmt.Fprintf(&b, "deleted: %s\n", d.Deleted)
			}
		}
		fmt.Fprintln(c.Out, b.String())
	}
	fmt.Fprintln(c.Out, "Total reclaimed space:", format.HumanSize(rep.SpaceReclaimed))
	return nil
}

// confirm asks on stdout and reads the answer from stdin; only "y" or
// "yes" (any case) agrees.
func (c *cli) confirm(message string) bool {
	fmt.Fprint(c.Out, message+" [y/N] ")
	answer, err := bufio.NewReader(c.In).ReadString('\n')
	if err != nil && err != io.EOF {
		return false
	}
	answer = strings.ToLower(strings.TrimSpace(answer))
	return answer == "y" || answer == "yes"
}

// newSystemPruneCommand is `system prune`: images only, until strata has
// containers, networks and a build cache to prune as well.
func (c *cli) newSystemPruneCommand() *cobra.Command {
	opts := pruneOptions{filter: newFilterFlag()}
	cmd := &cobra.Command{
		Use:   "prune [OPTIONS]",
		Short: "Remove unused data",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			what := "all dangling images"
			if opts.all {
				what = "all images without at least one container associated to them"
			}
			warning := "WARNING! This will remove:\n  - " + what + "\n\nAre you sure you want to continue?"
			if !opts.force && !c.confirm(warning) {
				return nil
			}
			return c.withEngine(cmd.Context(), func(e *engine.Engine) error {
				return c.pruneImages(cmd, e, opts)
			})
		},
	}
	fl := cmd.Flags()
	fl.BoolVarP(&opts.all, "all", "a", false, "Remove all unused images not just dangling ones")
	fl.Var(opts.filter, "filter", `Provide filter values (e.g. "label=<key>=<value>")`)
	fl.BoolVarP(&opts.force, "force", "f", false, "Do not prompt for confirmation")
	return cmd
}
