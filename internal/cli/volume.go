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

// `volume` and its verbs, with docker's flags and output.

const volumeTableFormat = "table {{.Driver}}\t{{.Name}}"

var volumeHeader = format.Header{
	"Driver": "DRIVER", "Name": "VOLUME NAME", "Labels": "LABELS", "Mountpoint": "MOUNTPOINT",
	"Scope": "SCOPE", "Links": "LINKS", "Size": "SIZE", "CreatedAt": "CREATED",
}

func (c *cli) newVolumeCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "volume COMMAND", Short: "Manage volumes", Args: noArgs, RunE: showHelp(c.Err)}
	cmd.AddCommand(c.newVolumeCreateCommand(), c.newVolumeLsCommand(), c.newVolumeInspectCommand(),
		c.newVolumeRmCommand(), c.newVolumePruneCommand())
	return cmd
}

func (c *cli) newVolumeCreateCommand() *cobra.Command {
	var opts engine.VolumeCreateOptions
	var labels, driverOpts listFlag
	cmd := &cobra.Command{
		Use:   "create [OPTIONS] [VOLUME]",
		Short: "Create a volume",
		Args:  maxArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				if opts.Name != "" && opts.Name != args[0] {
					return flagError(cmd, fmt.Errorf("conflicting options: cannot specify a volume-name through both --name and as a positional arg"))
				}
				opts.Name = args[0]
			}
			opts.Labels, opts.Options = keyValues(labels.values), keyValues(driverOpts.values)
			return c.withEngine(cmd.Context(), func(e *engine.Engine) error {
				v, err := e.VolumeCreate(cmd.Context(), opts)
				if err == nil {
					fmt.Fprintln(c.Out, v.Name)
				}
				return err
			})
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&opts.Driver, "driver", "d", "local", "Specify volume driver name")
	fl.Var(&labels, "label", "Set metadata for a volume")
	fl.VarP(&driverOpts, "opt", "o", "Set driver specific options")
	fl.StringVar(&opts.Name, "name", "", "Specify volume name")
	_ = fl.MarkHidden("name")
	return cmd
}

// keyValues turns KEY=VALUE strings into a map (a bare KEY maps to "").
func keyValues(kvs []string) map[string]string {
	if len(kvs) == 0 {
		return nil
	}
	m := map[string]string{}
	for _, kv := range kvs {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return m
}

func (c *cli) newVolumeLsCommand() *cobra.Command {
	var quiet bool
	var tmpl string
	filter := newFilterFlag()
	cmd := &cobra.Command{
		Use:     "ls [OPTIONS]",
		Aliases: []string{"list"},
		Short:   "List volumes",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.withEngine(cmd.Context(), func(e *engine.Engine) error {
				vols, err := e.VolumeList(cmd.Context(), filter.f)
				if err != nil {
					return err
				}
				f := format.Format(tmpl)
				switch {
				case tmpl == "" || tmpl == format.TableKey:
					f = volumeTableFormat
					if quiet {
						f = "{{.Name}}"
					}
				case quiet && !f.IsTable():
					f = "{{.Name}}"
				}
				rows := make([]any, len(vols))
				for i := range vols {
					rows[i] = &volumeRow{v: vols[i]}
				}
				return format.Write(c.Out, f, volumeHeader, rows)
			})
		},
	}
	fl := cmd.Flags()
	fl.BoolVarP(&quiet, "quiet", "q", false, "Only display volume names")
	fl.StringVar(&tmpl, "format", "", formatHelp)
	fl.VarP(filter, "filter", "f", `Provide filter values (e.g. "dangling=true")`)
	return cmd
}

// volumeRow is one line of `volume ls`: the fields a --format can name.
type volumeRow struct{ v engine.Volume }

func (r *volumeRow) MarshalJSON() ([]byte, error) { return format.MarshalMethods(r) }
func (r *volumeRow) Name() string                 { return r.v.Name }
func (r *volumeRow) Driver() string               { return r.v.Driver }
func (r *volumeRow) Mountpoint() string           { return r.v.Mountpoint }
func (r *volumeRow) Scope() string                { return r.v.Scope }
func (r *volumeRow) Links() string                { return strconv.Itoa(r.v.Links) }
func (r *volumeRow) CreatedAt() string            { return r.v.CreatedAt }

// Size is the volume's size where measured (system df), else docker's N/A.
func (r *volumeRow) Size() string {
	if r.v.Size < 0 {
		return "N/A"
	}
	return format.HumanSize(r.v.Size)
}

// Labels is docker's "k=v,k2=v2", sorted.
func (r *volumeRow) Labels() string {
	kvs := make([]string, 0, len(r.v.Labels))
	for k, v := range r.v.Labels {
		kvs = append(kvs, k+"="+v)
	}
	sort.Strings(kvs)
	return strings.Join(kvs, ",")
}

func (c *cli) newVolumeInspectCommand() *cobra.Command {
	var tmpl string
	cmd := &cobra.Command{
		Use:   "inspect [OPTIONS] VOLUME [VOLUME...]",
		Short: "Display detailed information on one or more volumes",
		Args:  minArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.withEngine(cmd.Context(), func(e *engine.Engine) error {
				var typed []any
				var raw [][]byte
				var errs []string
				for _, name := range args {
					v, err := e.VolumeInspect(cmd.Context(), name)
					if errdefs.IsNotFound(err) {
						errs = append(errs, "Error response from daemon: "+err.Error())
						continue
					}
					if err != nil {
						return err
					}
					b, err := json.Marshal(v)
					if err != nil {
						return err
					}
					typed, raw = append(typed, v), append(raw, b)
				}
				return inspectResult(c, tmpl, typed, raw, errs)
			})
		},
	}
	cmd.Flags().StringVarP(&tmpl, "format", "f", "", formatHelpInspect)
	return cmd
}

func inspectResult(c *cli, tmpl string, typed []any, raw [][]byte, errs []string) error {
	if err := format.Inspect(c.Out, format.Format(tmpl), typed, raw); err != nil {
		return err
	}
	if len(errs) > 0 {
		return StatusError{Status: strings.Join(errs, "\n"), StatusCode: exitFailure}
	}
	return nil
}

func (c *cli) newVolumeRmCommand() *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:     "rm [OPTIONS] VOLUME [VOLUME...]",
		Aliases: []string{"remove"},
		Short:   "Remove one or more volumes",
		Args:    minArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.withEngine(cmd.Context(), func(e *engine.Engine) error {
				var errs []string
				for _, name := range args {
					if err := e.VolumeRemove(cmd.Context(), name, force); err != nil {
						errs = append(errs, "Error response from daemon: "+err.Error())
						continue
					}
					fmt.Fprintln(c.Out, name)
				}
				if len(errs) > 0 {
					return StatusError{Status: strings.Join(errs, "\n"), StatusCode: exitFailure}
				}
				return nil
			})
		},
	}
	cmd.Flags().BoolVarP(&force, "force", "f", false, "Force the removal of one or more volumes")
	return cmd
}

func (c *cli) newVolumePruneCommand() *cobra.Command {
	var opts engine.VolumePruneOptions
	var force bool
	filter := newFilterFlag()
	cmd := &cobra.Command{
		Use:   "prune [OPTIONS]",
		Short: "Remove unused local volumes",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			warning := "WARNING! This will remove anonymous local volumes not used by at least one container.\nAre you sure you want to continue?"
			if opts.All {
				warning = "WARNING! This will remove all local volumes not used by at least one container.\nAre you sure you want to continue?"
			}
			if !force && !c.confirm(warning) {
				fmt.Fprintln(c.Out, "Total reclaimed space: 0B")
				return nil
			}
			opts.Filters = filter.f
			return c.withEngine(cmd.Context(), func(e *engine.Engine) error {
				rep, err := e.VolumePrune(cmd.Context(), opts)
				if len(rep.VolumesDeleted) > 0 {
					fmt.Fprintln(c.Out, "Deleted Volumes:\n"+strings.Join(rep.VolumesDeleted, "\n")+"\n")
				}
				fmt.Fprintf(c.Out, "Total reclaimed space: %s\n", format.HumanSize(rep.SpaceReclaimed))
				return err
			})
		},
	}
	fl := cmd.Flags()
	fl.BoolVarP(&opts.All, "all", "a", false, "Remove all unused volumes, not just anonymous ones")
	fl.Var(filter, "filter", `Provide filter values (e.g. "label=<label>")`)
	fl.BoolVarP(&force, "force", "f", false, "Do not prompt for confirmation")
	return cmd
}

// volumesDFRow is the "Local Volumes" line of `system df`: what is not
// used by a container is reclaimable.
func volumesDFRow(vols []engine.Volume) *dfRow {
	r := &dfRow{kind: "Local Volumes", total: len(vols), percent: true}
	for _, v := range vols {
		r.size += v.Size
		if v.Links > 0 {
			r.active++
		} else {
			r.reclaim += v.Size
		}
	}
	return r
}

// dfVolumeRows are the volumes of `system df -v`.
func dfVolumeRows(vols []engine.Volume) []any {
	rows := make([]any, len(vols))
	for i := range vols {
		rows[i] = &volumeRow{v: vols[i]}
	}
	return rows
}
