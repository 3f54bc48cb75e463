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
	var volumes bool
	cmd := &cobra.Command{
		Use:   "prune [OPTIONS]",
		Short: "Remove unused data",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if !opts.force && !c.confirm(systemPruneWarning(opts.all, volumes)) {
				return nil
			}
			return c.withEngine(cmd.Context(), func(e *engine.Engine) error {
				reclaimed, err := c.pruneContainersNetworksVolumes(cmd, e, volumes)
				if err != nil {
					return err
				}
				images, err := c.pruneImages(cmd, e, opts)
				if err != nil {
					return err
				}
				cache, err := c.pruneBuildCache(cmd, e, opts.all) // docker's: all of it only with -a
				if err != nil {
					return err
				}
				fmt.Fprintln(c.Out, "Total reclaimed space:", format.HumanSize(reclaimed+images+cache))
				return nil
			})
		},
	}
	fl := cmd.Flags()
	fl.BoolVarP(&opts.all, "all", "a", false, "Remove all unused images not just dangling ones")
	fl.Var(opts.filter, "filter", `Provide filter values (e.g. "label=<key>=<value>")`)
	fl.BoolVarP(&opts.force, "force", "f", false, "Do not prompt for confirmation")
	fl.BoolVar(&volumes, "volumes", false, "Prune anonymous volumes")
	return cmd
}

// systemPruneWarning is docker's list of what `system prune` removes.
func systemPruneWarning(all, volumes bool) string {
	what := []string{"all stopped containers", "all networks not used by at least one container"}
	if volumes {
		what = append(what, "all anonymous volumes not used by at least one container")
	}
	if all {
		what = append(what, "all images without at least one container associated to them", "all build cache")
	} else {
		what = append(what, "all dangling images", "unused build cache")
	}
	return "WARNING! This will remove:\n  - " + strings.Join(what, "\n  - ") + "\n\nAre you sure you want to continue?"
}

// pruneContainersNetworksVolumes is the first half of `system prune`, in
// docker's order: stopped containers, then the networks and (with
// volumes) anonymous volumes they no longer use. It prints what went and
// returns the bytes reclaimed.
func (c *cli) pruneContainersNetworksVolumes(cmd *cobra.Command, e *engine.Engine, volumes bool) (int64, error) {
	ctx := cmd.Context()
	containers, err := e.ContainerPrune(ctx)
	printDeleted(c.Out, "Deleted Containers:", containers.Deleted)
	if err != nil {
		return 0, err
	}
	networks, err := e.NetworkPrune(ctx)
	printDeleted(c.Out, "Deleted Networks:", networks)
	if err != nil || !volumes {
		return 0, err
	}
	rep, err := e.VolumePrune(ctx, engine.VolumePruneOptions{})
	printDeleted(c.Out, "Deleted Volumes:", rep.VolumesDeleted)
	return rep.SpaceReclaimed, err
}

// printDeleted prints a prune's list under its title, and a blank line.
func printDeleted(w io.Writer, title string, names []string) {
	if len(names) > 0 {
		fmt.Fprintln(w, title+"\n"+strings.Join(names, "\n")+"\n")
	}
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
