package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/strata-containers/strata/internal/engine"
	"github.com/strata-containers/strata/internal/errdefs"
)

// newPortCommand is `port CONTAINER [PRIVATE_PORT[/PROTO]]`.
func (c *cli) newPortCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "port CONTAINER [PRIVATE_PORT[/PROTO]]",
		Short: "List port mappings or a specific mapping for the container",
		Args:  rangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.withEngine(cmd.Context(), func(e *engine.Engine) error {
				ports, err := e.ContainerPorts(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				if len(args) == 1 {
					for _, p := range ports {
						fmt.Fprintln(c.Out, engine.FormatPort(p))
					}
					return nil
				}
				want := args[1]
				if !strings.Contains(want, "/") {
					want += "/tcp"
				}
				found := false
				for _, p := range ports {
					if p.Key() == want {
						found = true
						line := engine.FormatPort(p)
						fmt.Fprintln(c.Out, line[strings.Index(line, "-> ")+3:])
					}
				}
				if !found {
					return errdefs.NotFound("no public port '%s' published for %s", want, args[0])
				}
				return nil
			})
		},
	}
}

// portsText is ps's PORTS column: "0.0.0.0:8080->80/tcp, ...".
func portsText(ps []engine.PortMapping) string {
	parts := make([]string, len(ps))
	for i, p := range ps {
		ip := p.HostIP
		if ip == "" {
			ip = "0.0.0.0"
		}
		parts[i] = fmt.Sprintf("%s:%d->%s", ip, p.HostPort, p.Key())
	}
	return strings.Join(parts, ", ")
}
