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
				reclaimed, err := c.pruneImages(cmd, e, opts)
				if err != nil {
					return err
				}
				fmt.Fprintln(c.Out, "Total reclaimed space:", format.HumanSize(reclaimed))
				return nil
			})
		},
	}
	fl := cmd.Flags()
	fl.BoolVarP(&opts.all, "all", "a", false, "Remove all unused images, not just dangling ones")
	fl.Var(opts.filter, "filter", `Provide filter values (e.g. "until=<timestamp>")`)
	fl.BoolVarP(&opts.force, "force", "f", false, "Do not prompt for confirmation")
	return cmd
}

// pruneImages prunes, prints docker's list of what went and returns the
// bytes reclaimed.
func (c *cli) pruneImages(cmd *cobra.Command, e *engine.Engine, opts pruneOptions) (int64, error) {
	rep, err := e.ImagePrune(cmd.Context(), engine.PruneOptions{All: opts.all, Filters: opts.filter.f})
	if err != nil {
		return 0, err
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
	return rep.SpaceReclaimed, nil
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

// newSystemPruneCommand is `system prune`: images and the build cache
// (every entry: between builds none is in use), until strata has
// containers and networks to prune as well.
func (c *cli) newSystemPruneCommand() *cobra.Command {
	opts := pruneOptions{filter: newFilterFlag()}
	cmd := &cobra.Command{
		Use:   "prune [OPTIONS]",
		Short: "Remove unused data",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			what := "all dangling images\n  - unused build cache"
			if opts.all {
				what = "all images without at least one container associated to them\n  - all build cache"
			}
			warning := "WARNING! This will remove:\n  - " + what + "\n\nAre you sure you want to continue?"
			if !opts.force && !c.confirm(warning) {
				return nil
			}
			return c.withEngine(cmd.Context(), func(e *engine.Engine) error {
				reclaimed, err := c.pruneImages(cmd, e, opts)
				if err != nil {
					return err
				}
				cache, err := c.pruneBuildCache(cmd, e, opts.all) // docker's: all of it only with -a
				if err != nil {
					return err
				}
				fmt.Fprintln(c.Out, "Total reclaimed space:", format.HumanSize(reclaimed+cache))
				return nil
			})
		},
	}
	fl := cmd.Flags()
	fl.BoolVarP(&opts.all, "all", "a", false, "Remove all unused images not just dangling ones")
	fl.Var(opts.filter, "filter", `Provide filter values (e.g. "label=<key>=<value>")`)
	fl.BoolVarP(&opts.force, "force", "f", false, "Do not prompt for confirmation")
	return cmd
}

// pruneBuildCache drops the build cache (without all, only its dangling
// entries: those whose layers are gone), prints docker's list of what
// went (the cache's step keys) and returns the bytes reclaimed: the layers
// only the cache held, and the RUN cache mounts.
func (c *cli) pruneBuildCache(cmd *cobra.Command, e *engine.Engine, all bool) (int64, error) {
	rep, gc, err := e.BuilderPrune(cmd.Context(), all)
	if err != nil {
		return 0, err
	}
	if len(rep.Deleted) > 0 {
		fmt.Fprintln(c.Out, "Deleted build cache objects:\n"+strings.Join(rep.Deleted, "\n")+"\n")
	}
	return gc.LayerBytes() + rep.MountBytes, nil
}
