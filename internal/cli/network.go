package cli

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/strata-containers/strata/internal/cli/format"
	"github.com/strata-containers/strata/internal/engine"
	"github.com/strata-containers/strata/internal/errdefs"
)

const networkTableFormat = "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}"

var networkHeader = format.Header{"ID": "NETWORK ID", "Name": "NAME", "Driver": "DRIVER", "Scope": "SCOPE",
	"IPv6": "IPV6", "Internal": "INTERNAL", "CreatedAt": "CREATED AT", "Labels": "LABELS"}

// newNetworkCommand is `network` and its verbs.
func (c *cli) newNetworkCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "network", Short: "Manage networks", Args: noArgs, RunE: showHelp(c.Err)}
	cmd.AddCommand(c.newNetworkCreateCommand(), c.newNetworkLsCommand(), c.newNetworkInspectCommand(),
		c.newNetworkRmCommand(), c.newNetworkPruneCommand(), c.newNetworkConnectCommand(),
		c.newNetworkDisconnectCommand(), c.newNetworkDNSServeCommand(), c.newNetworkReleaseCommand())
	return cmd
}

func (c *cli) newNetworkCreateCommand() *cobra.Command {
	var o engine.NetworkCreateOptions
	var labels, opts, subnets listFlag
	cmd := &cobra.Command{
		Use:   "create [OPTIONS] NETWORK",
		Short: "Create a network",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := splitSubnets(subnets.values, &o); err != nil {
				return err
			}
			o.Name, o.Labels, o.Options = args[0], keyValues(labels.values), keyValues(opts.values)
			return c.withEngine(cmd.Context(), func(e *engine.Engine) error {
				id, err := e.NetworkCreate(cmd.Context(), o)
				if err == nil {
					fmt.Fprintln(c.Out, id)
				}
				return err
			})
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&o.Driver, "driver", "d", "bridge", "Driver to manage the Network")
	fl.Var(&subnets, "subnet", "Subnet in CIDR format that represents a network segment (IPv4, and IPv6 with --ipv6)")
	fl.StringVar(&o.Gateway, "gateway", "", "IPv4 Gateway for the master subnet")
	fl.StringVar(&o.IPRange, "ip-range", "", "Allocate container ip from a sub-range")
	fl.BoolVar(&o.Internal, "internal", false, "Restrict external access to the network")
	fl.BoolVar(&o.IPv6, "ipv6", false, "Enable or disable IPv6 networking")
	fl.Var(&labels, "label", "Set metadata on a network")
	fl.VarP(&opts, "opt", "o", "Set driver specific options")
	return cmd
}

// splitSubnets sorts --subnet values into the IPv4 and the IPv6 one.
func splitSubnets(vs []string, o *engine.NetworkCreateOptions) error {
	for _, v := range vs {
		dst := &o.Subnet
		if strings.Contains(v, ":") {
			dst = &o.Subnet6
		}
		if *dst != "" {
			return errdefs.Invalid("multiple subnets of one address family are not supported: %s", v)
		}
		*dst = v
	}
	return nil
}

func (c *cli) newNetworkLsCommand() *cobra.Command {
	var quiet, noTrunc bool
	var tmpl string
	filter := newFilterFlag()
	cmd := &cobra.Command{
		Use:     "ls [OPTIONS]",
		Aliases: []string{"list"},
		Short:   "List networks",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.withEngine(cmd.Context(), func(e *engine.Engine) error {
				ns, err := e.NetworkList(cmd.Context(), filter.f)
				if err != nil {
					return err
				}
				f := format.Format(tmpl)
				if tmpl == "" || tmpl == format.TableKey {
					f = networkTableFormat
				}
				if quiet {
					f = format.QuietFormat
				}
				rows := make([]any, len(ns))
				for i, n := range ns {
					rows[i] = networkRow{n: n, trunc: !noTrunc}
				}
				return format.Write(c.Out, f, networkHeader, rows)
			})
		},
	}
	fl := cmd.Flags()
	fl.BoolVarP(&quiet, "quiet", "q", false, "Only display network IDs")
	fl.VarP(filter, "filter", "f", `Provide filter values (e.g. "driver=bridge")`)
	fl.BoolVar(&noTrunc, "no-trunc", false, "Do not truncate the output")
	fl.StringVar(&tmpl, "format", "", formatHelp)
	return cmd
}

// networkRow is one line of `network ls`; its methods are the --format fields.
type networkRow struct {
	n     engine.NetworkInspect
	trunc bool
}

func (r networkRow) ID() string {
	if r.trunc {
		return format.TruncateID(r.n.ID)
	}
	return r.n.ID
}
func (r networkRow) Name() string      { return r.n.Name }
func (r networkRow) Driver() string    { return r.n.Driver }
func (r networkRow) Scope() string     { return r.n.Scope }
func (r networkRow) IPv6() string      { return fmt.Sprint(r.n.EnableIPv6) }
func (r networkRow) Internal() string  { return fmt.Sprint(r.n.Internal) }
func (r networkRow) CreatedAt() string { return r.n.Created }
func (r networkRow) Labels() string {
	var kv []string
	for k, v := range r.n.Labels {
		kv = append(kv, k+"="+v)
	}
	return strings.Join(kv, ",")
}

// MarshalJSON is what --format json prints.
func (r networkRow) MarshalJSON() ([]byte, error) { return format.MarshalMethods(r) }

func (c *cli) newNetworkInspectCommand() *cobra.Command {
	var tmpl string
	cmd := &cobra.Command{
		Use:   "inspect [OPTIONS] NETWORK [NETWORK...]",
		Short: "Display detailed information on one or more networks",
		Args:  minArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.withEngine(cmd.Context(), func(e *engine.Engine) error {
				var typed []any
				var raw [][]byte
				var errs []string
				for _, ref := range args {
					n, err := e.NetworkInspect(cmd.Context(), ref)
					if errdefs.IsNotFound(err) {
						errs = append(errs, "Error response from daemon: network "+ref+" not found")
						continue
					}
					if err != nil {
						return err
					}
					b, err := json.Marshal(n)
					if err != nil {
						return err
					}
					typed, raw = append(typed, n), append(raw, b)
				}
				if err := format.Inspect(c.Out, format.Format(tmpl), typed, raw); err != nil {
					return err
				}
				if len(errs) > 0 {
					return StatusError{Status: strings.Join(errs, "\n"), StatusCode: exitFailure}
				}
				return nil
			})
		},
	}
	cmd.Flags().StringVarP(&tmpl, "format", "f", "", formatHelpInspect)
	return cmd
}

func (c *cli) newNetworkRmCommand() *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:     "rm NETWORK [NETWORK...]",
		Aliases: []string{"remove"},
		Short:   "Remove one or more networks",
		Args:    minArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.withEngine(cmd.Context(), func(e *engine.Engine) error {
				var errs []string
				for _, ref := range args {
					err := e.NetworkRemove(cmd.Context(), ref)
					if force && errdefs.IsNotFound(err) {
						continue
					}
					if err != nil {
						errs = append(errs, "Error response from daemon: "+err.Error())
						continue
					}
					fmt.Fprintln(c.Out, ref)
				}
				if len(errs) > 0 {
					return StatusError{Status: strings.Join(errs, "\n"), StatusCode: exitFailure}
				}
				return nil
			})
		},
	}
	cmd.Flags().BoolVarP(&force, "force", "f", false, "Do not error if the network does not exist")
	return cmd
}

const networkPruneWarning = "WARNING! This will remove all custom networks not used by at least one container.\nAre you sure you want to continue?"

func (c *cli) newNetworkPruneCommand() *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "prune [OPTIONS]",
		Short: "Remove all unused networks",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if !force && !c.confirm(networkPruneWarning) {
				return nil
			}
			return c.withEngine(cmd.Context(), func(e *engine.Engine) error {
				removed, err := e.NetworkPrune(cmd.Context())
				if len(removed) > 0 {
					fmt.Fprintln(c.Out, "Deleted Networks:")
					for _, n := range removed {
						fmt.Fprintln(c.Out, n)
					}
				}
				return err
			})
		},
	}
	cmd.Flags().BoolVarP(&force, "force", "f", false, "Do not prompt for confirmation")
	return cmd
}

func (c *cli) newNetworkConnectCommand() *cobra.Command {
	var aliases listFlag
	var o engine.NetworkConnectOptions
	cmd := &cobra.Command{
		Use:   "connect [OPTIONS] NETWORK CONTAINER",
		Short: "Connect a container to a network",
		Args:  exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Aliases = aliases.values
			return c.withEngine(cmd.Context(), func(e *engine.Engine) error {
				return e.NetworkConnect(cmd.Context(), args[0], args[1], o)
			})
		},
	}
	fl := cmd.Flags()
	fl.Var(&aliases, "alias", "Add network-scoped alias for the container")
	fl.StringVar(&o.IP, "ip", "", "IPv4 address (e.g., \"172.30.100.104\")")
	return cmd
}

func (c *cli) newNetworkDisconnectCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "disconnect [OPTIONS] NETWORK CONTAINER",
		Short: "Disconnect a container from a network",
		Args:  exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.withEngine(cmd.Context(), func(e *engine.Engine) error {
				return e.NetworkDisconnect(cmd.Context(), args[0], args[1])
			})
		},
	}
	cmd.Flags().BoolP("force", "f", false, "Force the container to disconnect from a network")
	return cmd
}

// newNetworkDNSServeCommand is the hidden verb the embedded DNS server of
// a user-defined network runs as (see engine.ensureDNS).
func (c *cli) newNetworkDNSServeCommand() *cobra.Command {
	return &cobra.Command{
		Use:    "dns-serve NETWORK",
		Hidden: true,
		Args:   exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.withEngine(cmd.Context(), func(e *engine.Engine) error {
				return e.NetworkServeDNS(cmd.Context(), args[0], c.Out)
			})
		},
	}
}

// newNetworkReleaseCommand is the hidden verb a container's monitor runs
// when the container stops (see engine.ContainerNetworkRelease).
func (c *cli) newNetworkReleaseCommand() *cobra.Command {
	return &cobra.Command{
		Use:    "release CONTAINER-ID",
		Hidden: true,
		Args:   exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.withEngine(cmd.Context(), func(e *engine.Engine) error {
				return e.ContainerNetworkRelease(cmd.Context(), args[0])
			})
		},
	}
}

// netFlags are the network flags of run and create.
type netFlags struct {
	aliases, publish, dns, dnsSearch, dnsOpts, addHost listFlag
	expose, links                                      listFlag
	ip, mac                                            string
	publishAll                                         bool
}

func (f *netFlags) register(fl *pflag.FlagSet) {
	fl.Var(&f.aliases, "network-alias", "Add network-scoped alias for the container")
	fl.VarP(&f.publish, "publish", "p", "Publish a container's port(s) to the host")
	fl.BoolVarP(&f.publishAll, "publish-all", "P", false, "Publish all exposed ports to random ports")
	fl.StringVar(&f.ip, "ip", "", "IPv4 address (e.g., 172.30.100.104)")
	fl.StringVar(&f.mac, "mac-address", "", "Container MAC address (e.g., 92:d0:c6:0a:29:33)")
	fl.Var(&f.dns, "dns", "Set custom DNS servers")
	fl.Var(&f.dnsSearch, "dns-search", "Set custom DNS search domains")
	fl.Var(&f.dnsOpts, "dns-option", "Set DNS options")
	fl.Var(&f.addHost, "add-host", "Add a custom host-to-IP mapping (host:ip)")
	fl.Var(&f.expose, "expose", "Expose a port or a range of ports")
	fl.Var(&f.links, "link", "Add link to another container")
}

func (f *netFlags) options() engine.NetworkOptions {
	return engine.NetworkOptions{Aliases: f.aliases.values, IP: f.ip, MAC: f.mac, Publish: f.publish.values,
		PublishAll: f.publishAll, DNS: f.dns.values, DNSSearch: f.dnsSearch.values, DNSOptions: f.dnsOpts.values,
		ExtraHosts: f.addHost.values, Expose: f.expose.values, Links: f.links.values}
}
