package cli

import (
	"fmt"
	"io"

	"github.com/docker/go-units"
	"github.com/spf13/cobra"

	"github.com/strata-containers/strata/internal/cli/format"
	"github.com/strata-containers/strata/internal/engine"
)

// infoData is what `info --format` templates see, with docker's field names.
type infoData struct {
	Containers        int
	ContainersRunning int
	ContainersPaused  int
	ContainersStopped int
	Images            int
	Driver            string
	KernelVersion     string
	OperatingSystem   string
	OSType            string
	Architecture      string
	NCPU              int
	MemTotal          int64
	Name              string
	DockerRootDir     string
	RunRoot           string
	ServerVersion     string
	Debug             bool
}

func (c *cli) newInfoCommand() *cobra.Command {
	cmd := c.newSystemInfoCommand()
	cmd.Annotations = map[string]string{annotTop: "12", annotAliases: "strata system info, strata info"}
	return cmd
}

// newSystemInfoCommand is `system info` (and, renamed, `info`).
func (c *cli) newSystemInfoCommand() *cobra.Command {
	var tmpl string
	cmd := &cobra.Command{
		Use:   "info [OPTIONS]",
		Short: "Display system-wide information",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.withEngine(cmd.Context(), func(e *engine.Engine) error {
				info, err := e.Info(cmd.Context())
				if err != nil {
					return err
				}
				d := infoData{
					Containers: info.Containers, ContainersRunning: info.Running, ContainersPaused: info.Paused, ContainersStopped: info.Stopped,
					Images: info.Images, Driver: info.Driver, KernelVersion: info.KernelVersion,
					OperatingSystem: info.OperatingSystem, OSType: info.OSType, Architecture: info.Architecture,
					NCPU: info.CPUs, MemTotal: info.MemTotal, Name: info.Name,
					DockerRootDir: info.Root, RunRoot: info.RunRoot, ServerVersion: Version,
					Debug: c.cfg.LogLevel == "debug",
				}
				return writeInfo(c.Out, d, tmpl)
			})
		},
	}
	cmd.Flags().StringVarP(&tmpl, "format", "f", "", formatHelpInspect)
	return cmd
}

func writeInfo(w io.Writer, d infoData, tmpl string) error {
	if tmpl != "" {
		if tmpl == format.JSONKey {
			tmpl = "{{json .}}"
		}
		t, err := format.Parse(tmpl)
		if err != nil {
			return err
		}
		if err := t.Execute(w, d); err != nil {
			return fmt.Errorf("template parsing error: %w", err)
		}
		_, err = fmt.Fprintln(w)
		return err
	}
	_, err := fmt.Fprintf(w, `Client:
 Version:    %s
 Debug Mode: %t

Server:
 Containers: %d
  Running: %d
  Paused: %d
  Stopped: %d
 Images: %d
 Server Version: %s
 Storage Driver: %s
 Kernel Version: %s
 Operating System: %s
 OSType: %s
 Architecture: %s
 CPUs: %d
 Total Memory: %s
 Name: %s
 Docker Root Dir: %s
 Run Root Dir: %s
 Debug Mode: %t
`, d.ServerVersion, d.Debug, d.Containers, d.ContainersRunning, d.ContainersPaused, d.ContainersStopped,
		d.Images, d.ServerVersion, d.Driver, d.KernelVersion, d.OperatingSystem, d.OSType, d.Architecture,
		d.NCPU, units.BytesSize(float64(d.MemTotal)), d.Name, d.DockerRootDir, d.RunRoot, d.Debug)
	return err
}
