package cli

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/strata-containers/strata/internal/cli/format"
)

// Version is strata's version, set at link time with
// -ldflags "-X github.com/strata-containers/strata/internal/cli.Version=1.2.3".
var Version = "0.1.0-dev"

// APIVersion is the Docker Engine API version strata speaks.
const APIVersion = "1.43"

type build struct {
	commit string // short VCS revision, "unknown" outside a checkout
	time   string // VCS commit time in docker's "Built:" form
}

func buildInfo() build {
	b := build{commit: "unknown", time: "unknown"}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return b
	}
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			b.commit = s.Value[:min(7, len(s.Value))]
		case "vcs.time":
			if t, err := time.Parse(time.RFC3339, s.Value); err == nil {
				b.time = t.Format(time.ANSIC)
			}
		}
	}
	return b
}

// versionInfo is what `version --format` templates see.
type versionInfo struct {
	Client componentVersion
	Server componentVersion // the same binary: strata has no separate daemon
}

type componentVersion struct {
	Version    string
	APIVersion string
	GoVersion  string
	GitCommit  string
	BuildTime  string
	Os         string
	Arch       string
}

const versionTemplate = `Client:
 Version:	{{.Client.Version}}
 API version:	{{.Client.APIVersion}}
 Go version:	{{.Client.GoVersion}}
 Git commit:	{{.Client.GitCommit}}
 Built:	{{.Client.BuildTime}}
 OS/Arch:	{{.Client.Os}}/{{.Client.Arch}}`

func (c *cli) newVersionCommand() *cobra.Command {
	var tmpl string
	cmd := &cobra.Command{
		Use:         "version [OPTIONS]",
		Short:       "Show the strata version information",
		Args:        noArgs,
		Annotations: map[string]string{annotTop: "11"},
		RunE: func(cmd *cobra.Command, args []string) error {
			b := buildInfo()
			v := componentVersion{
				Version: Version, APIVersion: APIVersion, GoVersion: runtime.Version(),
				GitCommit: b.commit, BuildTime: b.time, Os: runtime.GOOS, Arch: runtime.GOARCH,
			}
			return c.writeVersion(tmpl, versionInfo{Client: v, Server: v})
		},
	}
	cmd.Flags().StringVarP(&tmpl, "format", "f", "", formatHelpInspect)
	return cmd
}

func (c *cli) writeVersion(tmplText string, v versionInfo) error {
	if tmplText == format.JSONKey {
		tmplText = "{{json .}}"
	}
	if tmplText != "" {
		t, err := format.Parse(tmplText)
		if err != nil {
			return err
		}
		if err := t.Execute(c.Out, v); err != nil {
			return fmt.Errorf("template parsing error: %w", err)
		}
		_, err = fmt.Fprintln(c.Out)
		return err
	}
	t, err := format.Parse(versionTemplate)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(c.Out, 20, 1, 1, ' ', 0)
	if err := t.Execute(tw, v); err != nil {
		return err
	}
	fmt.Fprintln(tw)
	return tw.Flush()
}
