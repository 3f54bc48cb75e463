package cli

import (
	"github.com/spf13/cobra"

	"github.com/strata-containers/strata/internal/cli/format"
	"github.com/strata-containers/strata/internal/engine"
)

// newImageCommand is `strata image`, the management command grouping every
// image verb; the old top-level verbs (images, rmi, ...) are aliases.
func (c *cli) newImageCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "image",
		Short: "Manage images",
		Args:  noArgs,
		RunE:  showHelp(c.Err),
	}
	cmd.AddCommand(
		c.newHistoryCommand("history"), c.newImportCommand("import"), c.newImageInspectCommand(),
		c.newLoadCommand("load"), c.newImagesCommand("ls", ""), c.newImagePruneCommand(),
		c.newRemoveCommand("rm"), c.newSaveCommand("save"), c.newTagCommand("tag"),
	)
	return cmd
}

type imagesOptions struct {
	all, quiet, digests, noTrunc bool
	format                       string
	filter                       *filterFlag
}

// newImagesCommand is `images` (top-level, ranked top among the root's
// common commands) or `image ls`.
func (c *cli) newImagesCommand(verb, top string) *cobra.Command {
	opts := imagesOptions{filter: newFilterFlag()}
	cmd := &cobra.Command{
		Use:         verb + " [OPTIONS] [REPOSITORY[:TAG]]",
		Short:       "List images",
		Args:        maxArgs(1),
		Annotations: map[string]string{annotAliases: "strata image ls, strata image list, strata images"},
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.filter.f.Add("reference", args[0])
			}
			return c.withEngine(cmd.Context(), func(e *engine.Engine) error {
				imgs, err := e.ImageList(cmd.Context(), engine.ImageListOptions{All: opts.all, Filters: opts.filter.f})
				if err != nil {
					return err
				}
				return writeImages(c.Out, imgs, opts)
			})
		},
	}
	if verb == "ls" {
		cmd.Aliases = []string{"list"}
	}
	if top != "" {
		cmd.Annotations[annotTop] = top
	}
	fl := cmd.Flags()
	fl.BoolVarP(&opts.all, "all", "a", false, "Show all images (default hides intermediate images)")
	fl.BoolVar(&opts.digests, "digests", false, "Show digests")
	fl.VarP(opts.filter, "filter", "f", "Filter output based on conditions provided")
	fl.StringVar(&opts.format, "format", "", formatHelp)
	fl.BoolVar(&opts.noTrunc, "no-trunc", false, "Don't truncate output")
	fl.BoolVarP(&opts.quiet, "quiet", "q", false, "Only show image IDs")
	return cmd
}

func writeImages(out interface{ Write([]byte) (int, error) }, imgs []engine.ImageSummary, opts imagesOptions) error {
	f := imageFormat(opts.format, opts.quiet, opts.digests)
	withDigest := opts.digests || f.Contains("{{.Digest}}")
	var rows []any
	for _, img := range imgs {
		for _, r := range imageRows(img, !opts.noTrunc, withDigest, opts.digests) {
			rows = append(rows, r)
		}
	}
	return format.Write(out, f, imageHeader, rows)
}
