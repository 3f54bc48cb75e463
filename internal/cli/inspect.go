package cli

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/strata-containers/strata/internal/cli/format"
	"github.com/strata-containers/strata/internal/engine"
	"github.com/strata-containers/strata/internal/errdefs"
)

// newInspectCommand is the top-level `inspect`, of containers and images.
func (c *cli) newInspectCommand() *cobra.Command {
	var tmpl, kind string
	var size bool
	cmd := &cobra.Command{
		Use:   "inspect [OPTIONS] NAME|ID [NAME|ID...]",
		Short: "Return low-level information on strata objects",
		Args:  minArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch kind {
			case "", "image":
			case "container":
				return c.withEngine(cmd.Context(), func(e *engine.Engine) error {
					return inspectContainers(c, cmd, e, args, tmpl)
				})
			default:
				return errdefs.Invalid("%q is not a valid value for --type", kind)
			}
			if kind == "" && c.allContainers(cmd, args) {
				return c.withEngine(cmd.Context(), func(e *engine.Engine) error {
					return inspectContainers(c, cmd, e, args, tmpl)
				})
			}
			return c.inspectImages(cmd, args, tmpl, "object")
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&tmpl, "format", "f", "", formatHelpInspect)
	fl.BoolVarP(&size, "size", "s", false, "Display total file sizes if the type is container")
	fl.StringVar(&kind, "type", "", "Return JSON for specified type")
	return cmd
}

// allContainers reports whether every name is a container: docker looks
// for a container before an image.
func (c *cli) allContainers(cmd *cobra.Command, names []string) bool {
	found := false
	_ = c.withEngine(cmd.Context(), func(e *engine.Engine) error {
		for _, n := range names {
			if _, err := e.ContainerInspect(cmd.Context(), n); err != nil {
				return nil
			}
		}
		found = true
		return nil
	})
	return found
}

// newImageInspectCommand is `image inspect`.
func (c *cli) newImageInspectCommand() *cobra.Command {
	var tmpl string
	cmd := &cobra.Command{
		Use:   "inspect [OPTIONS] IMAGE [IMAGE...]",
		Short: "Display detailed information on one or more images",
		Args:  minArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.inspectImages(cmd, args, tmpl, "image")
		},
	}
	cmd.Flags().StringVarP(&tmpl, "format", "f", "", formatHelpInspect)
	return cmd
}

// inspectImages prints what it found, then fails listing what it did not,
// as docker does ("[]" and "Error: No such image: x" for a lone miss).
func (c *cli) inspectImages(cmd *cobra.Command, names []string, tmpl, kind string) error {
	return c.withEngine(cmd.Context(), func(e *engine.Engine) error {
		var (
			typed []any
			raw   [][]byte
			errs  []string
		)
		for _, name := range names {
			img, err := e.ImageInspect(cmd.Context(), name)
			if errdefs.IsNotFound(err) {
				errs = append(errs, fmt.Sprintf("Error: No such %s: %s", kind, name))
				continue
			}
			if err != nil {
				return err
			}
			b, err := json.Marshal(img)
			if err != nil {
				return err
			}
			typed, raw = append(typed, img), append(raw, b)
		}
		if err := format.Inspect(c.Out, format.Format(tmpl), typed, raw); err != nil {
			return err
		}
		if len(errs) > 0 {
			return StatusError{Status: strings.Join(errs, "\n"), StatusCode: exitFailure}
		}
		return nil
	})
}
