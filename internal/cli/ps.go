package cli

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/strata-containers/strata/internal/cli/format"
	"github.com/strata-containers/strata/internal/engine"
	"github.com/strata-containers/strata/internal/errdefs"
)

const psTableFormat = "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}"

var psHeader = format.Header{
	"ID": "CONTAINER ID", "Image": "IMAGE", "Command": "COMMAND", "CreatedAt": "CREATED AT",
	"RunningFor": "CREATED", "Status": "STATUS", "Ports": "PORTS", "Names": "NAMES",
	"State": "STATE", "Labels": "LABELS", "Size": "SIZE",
}

type psOptions struct {
	all, quiet, latest, noTrunc, size bool
	last                              int
	format                            string
	filter                            *filterFlag
}

// newPsCommand is `ps` (top-level) or `container ls`.
func (cc *containerCLI) newPsCommand(verb, top string) *cobra.Command {
	opts := psOptions{filter: newFilterFlag(), last: -1}
	cmd := &cobra.Command{
		Use:         verb + " [OPTIONS]",
		Short:       "List containers",
		Args:        noArgs,
		Annotations: map[string]string{annotAliases: "strata container ls, strata container list, strata container ps, strata ps"},
		RunE: func(cmd *cobra.Command, args []string) error {
			return cc.withEngine(cmd.Context(), func(e *engine.Engine) error {
				cs, err := e.ContainerList(cmd.Context(), engine.ContainerListOptions{
					All: opts.all, Limit: max(opts.last, 0), Latest: opts.latest, Filters: opts.filter.f,
					Size: opts.size || strings.Contains(opts.format, ".Size"),
				})
				if err != nil {
					return err
				}
				return writeContainers(cc.Out, cs, opts)
			})
		},
	}
	if verb == "ls" {
		cmd.Aliases = []string{"list", "ps"}
	}
	if top != "" {
		cmd.Annotations[annotTop] = top
	}
	fl := cmd.Flags()
	fl.BoolVarP(&opts.all, "all", "a", false, "Show all containers (default shows just running)")
	fl.VarP(opts.filter, "filter", "f", "Filter output based on conditions provided")
	fl.StringVar(&opts.format, "format", "", formatHelp)
	fl.IntVarP(&opts.last, "last", "n", -1, "Show n last created containers (includes all states)")
	fl.BoolVarP(&opts.latest, "latest", "l", false, "Show the latest created container (includes all states)")
	fl.BoolVar(&opts.noTrunc, "no-trunc", false, "Don't truncate output")
	fl.BoolVarP(&opts.quiet, "quiet", "q", false, "Only display container IDs")
	fl.BoolVarP(&opts.size, "size", "s", false, "Display total file sizes")
	return cmd
}

func writeContainers(out interface{ Write([]byte) (int, error) }, cs []engine.ContainerSummary, opts psOptions) error {
	f := format.Format(opts.format)
	switch {
	case opts.format == "" || opts.format == format.TableKey:
		f = psTableFormat
		if opts.size {
			f += "\t{{.Size}}"
		}
		if opts.quiet {
			f = format.QuietFormat
		}
	case opts.quiet && !f.IsTable():
		f = format.QuietFormat
	}
	rows := make([]any, 0, len(cs))
	for _, c := range cs {
		rows = append(rows, psRow{c: c, trunc: !opts.noTrunc})
	}
	return format.Write(out, f, psHeader, rows)
}

// psRow is one line of ps; its methods are the --format fields.
type psRow struct {
	c     engine.ContainerSummary
	trunc bool
}

func (r psRow) ID() string {
	if r.trunc {
		return format.TruncateID(r.c.ID)
	}
	return r.c.ID
}
func (r psRow) Image() string { return r.c.Image }
func (r psRow) Command() string {
	if r.trunc {
		return strconv.Quote(format.Ellipsis(r.c.Command, 20))
	}
	return strconv.Quote(r.c.Command)
}
func (r psRow) CreatedAt() string  { return r.c.Created.Local().Format("2006-01-02 15:04:05 -0700 MST") }
func (r psRow) RunningFor() string { return format.Since(r.c.Created, now()) }
func (r psRow) Status() string     { return r.c.Status }
func (r psRow) State() string      { return r.c.State }
func (r psRow) Ports() string      { return portsText(r.c.Ports) }
func (r psRow) Size() string       { return psSize(r.c) }
func (r psRow) Names() string {
	names := make([]string, len(r.c.Names))
	for i, n := range r.c.Names {
		names[i] = strings.TrimPrefix(n, "/")
	}
	return strings.Join(names, ",")
}
func (r psRow) Labels() string {
	var kv []string
	for k, v := range r.c.Labels {
		kv = append(kv, k+"="+v)
	}
	sort.Strings(kv)
	return strings.Join(kv, ",")
}
func (r psRow) Label(name string) string { return r.c.Labels[name] }

// MarshalJSON is what --format json prints: docker's field names.
func (r psRow) MarshalJSON() ([]byte, error) { return format.MarshalMethods(r) }

func (cc *containerCLI) newContainerInspectCommand() *cobra.Command {
	var tmpl string
	cmd := &cobra.Command{
		Use:   "inspect [OPTIONS] CONTAINER [CONTAINER...]",
		Short: "Display detailed information on one or more containers",
		Args:  minArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return cc.withEngine(cmd.Context(), func(e *engine.Engine) error {
				return inspectContainers(cc.cli, cmd, e, args, tmpl)
			})
		},
	}
	cmd.Flags().StringVarP(&tmpl, "format", "f", "", formatHelpInspect)
	return cmd
}

// inspectContainers prints what it found, then fails listing what it did
// not, as docker does.
func inspectContainers(c *cli, cmd *cobra.Command, e *engine.Engine, refs []string, tmpl string) error {
	var typed []any
	var raw [][]byte
	var errs []string
	for _, ref := range refs {
		ci, err := e.ContainerInspect(cmd.Context(), ref)
		if errdefs.IsNotFound(err) {
			errs = append(errs, "Error: No such container: "+ref)
			continue
		}
		if err != nil {
			return err
		}
		b, err := json.Marshal(ci)
		if err != nil {
			return err
		}
		typed, raw = append(typed, ci), append(raw, b)
	}
	if err := format.Inspect(c.Out, format.Format(tmpl), typed, raw); err != nil {
		return err
	}
	if len(errs) > 0 {
		return StatusError{Status: strings.Join(errs, "\n"), StatusCode: exitFailure}
	}
	return nil
}

func (cc *containerCLI) newContainerPruneCommand() *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "prune [OPTIONS]",
		Short: "Remove all stopped containers",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if !force && !cc.confirm("WARNING! This will remove all stopped containers.\nAre you sure you want to continue?") {
				fmt.Fprintln(cc.Out, "Total reclaimed space: 0B")
				return nil
			}
			return cc.withEngine(cmd.Context(), func(e *engine.Engine) error {
				rep, err := e.ContainerPrune(cmd.Context())
				if len(rep.Deleted) > 0 {
					fmt.Fprintln(cc.Out, "Deleted Containers:")
					for _, id := range rep.Deleted {
						fmt.Fprintln(cc.Out, id)
					}
					fmt.Fprintln(cc.Out)
				}
				fmt.Fprintln(cc.Out, "Total reclaimed space: 0B")
				return err
			})
		},
	}
	cmd.Flags().BoolVarP(&force, "force", "f", false, "Do not prompt for confirmation")
	return cmd
}
