package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/strata-containers/strata/internal/engine"
	"github.com/strata-containers/strata/internal/errdefs"
)

// newLoadCommand is `load` or `image load`.
func (c *cli) newLoadCommand(verb string) *cobra.Command {
	var input string
	var quiet bool
	cmd := &cobra.Command{
		Use:         verb + " [OPTIONS]",
		Short:       "Load an image from a tar archive or STDIN",
		Args:        noArgs,
		Annotations: map[string]string{annotAliases: "strata image load, strata load"},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts := engine.LoadOptions{Input: c.In, Path: input}
			if input == "" && isTerminal(c.In) {
				return errors.New("requested load from stdin, but stdin is empty")
			}
			return c.withEngine(cmd.Context(), func(e *engine.Engine) error {
				loaded, err := e.ImageLoad(cmd.Context(), opts)
				if err != nil {
					return err
				}
				for _, l := range loaded {
					for _, t := range l.Tags {
						fmt.Fprintf(c.Out, "Loaded image: %s\n", t)
					}
					if len(l.Tags) == 0 {
						fmt.Fprintf(c.Out, "Loaded image ID: %s\n", l.ID)
					}
				}
				return nil
			})
		},
	}
	cmd.Flags().StringVarP(&input, "input", "i", "", "Read from tar archive file, instead of STDIN")
	// strata shows no progress, so there is nothing to suppress; the flag
	// is accepted for scripts written for docker.
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "Suppress the load output")
	return cmd
}

// newSaveCommand is `save` or `image save`.
func (c *cli) newSaveCommand(verb string) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:         verb + " [OPTIONS] IMAGE [IMAGE...]",
		Short:       "Save one or more images to a tar archive (streamed to STDOUT by default)",
		Args:        minArgs(1),
		Annotations: map[string]string{annotAliases: "strata image save, strata save"},
		RunE: func(cmd *cobra.Command, args []string) error {
			if output == "" && isTerminal(c.Out) {
				return errors.New("cowardly refusing to save to a terminal. Use the -o flag or redirect")
			}
			return c.withEngine(cmd.Context(), func(e *engine.Engine) error {
				if output != "" {
					return e.ImageSaveFile(cmd.Context(), output, args)
				}
				return e.ImageSave(cmd.Context(), c.Out, args)
			})
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "Write to a file, instead of STDOUT")
	return cmd
}

// newImportCommand is `import` or `image import`.
func (c *cli) newImportCommand(verb string) *cobra.Command {
	var opts engine.ImportOptions
	changes := &listFlag{}
	cmd := &cobra.Command{
		Use:         verb + " [OPTIONS] file|URL|- [REPOSITORY[:TAG]]",
		Short:       "Import the contents from a tarball to create a filesystem image",
		Args:        rangeArgs(1, 2),
		Annotations: map[string]string{annotAliases: "strata image import, strata import"},
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 2 {
				opts.Ref = args[1]
			}
			opts.Changes = changes.values
			r, closeInput, err := c.importSource(args[0])
			if err != nil {
				return err
			}
			defer closeInput()
			return c.withEngine(cmd.Context(), func(e *engine.Engine) error {
				id, err := e.ImageImport(cmd.Context(), r, opts)
				if err != nil {
					return err
				}
				_, err = fmt.Fprintln(c.Out, id)
				return err
			})
		},
	}
	fl := cmd.Flags()
	fl.VarP(changes, "change", "c", "Apply Dockerfile instruction to the created image")
	fl.StringVarP(&opts.Message, "message", "m", "", "Set commit message for imported image")
	fl.StringVar(&opts.Platform, "platform", "", "Set platform if server is multi-platform capable")
	return cmd
}

// importSource opens what `import` reads: a file, or stdin for "-".
func (c *cli) importSource(src string) (io.Reader, func(), error) {
	if src == "-" {
		return c.In, func() {}, nil
	}
	if strings.Contains(src, "://") {
		return nil, nil, errdefs.Invalid("importing from a URL is not supported: %s", src)
	}
	f, err := os.Open(src)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil, errdefs.NotFound("%w", err)
	}
	if err != nil {
		return nil, nil, err
	}
	return f, func() { f.Close() }, nil
}
