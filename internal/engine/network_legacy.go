package engine

import (
	"context"
	"strings"

	"github.com/strata-containers/strata/internal/container"
	"github.com/strata-containers/strata/internal/errdefs"
	"github.com/strata-containers/strata/internal/network"
)

// applyLegacyOptions records --expose (more ExposedPorts, which -P
// publishes) and --link (checked against the store: the linked container
// must exist; it must run when this one starts).
func (e *Engine) applyLegacyOptions(ctx context.Context, rec *container.Record, o NetworkOptions) error {
	ports, err := network.ParseExpose(o.Expose)
	if err != nil {
		return err
	}
	for _, p := range ports {
		rec.Config.ExposedPorts[p] = struct{}{}
	}
	mode, _, _ := strings.Cut(rec.HostConfig.NetworkMode, ":")
	if len(o.Links) > 0 && (mode == network.HostNetwork || mode == network.NoneNetwork || mode == "container") {
		return errdefs.Invalid("conflicting options: %s type networking can't be used with links. This would result in undefined behavior", mode)
	}
	rec.HostConfig.Links = nil
	for _, l := range o.Links {
		name, alias := parseLink(l)
		if name == "" || alias == "" {
			return errdefs.Invalid("invalid argument %q for \"--link\" flag: bad format", l)
		}
		if _, err := e.containers.Get(ctx, name); err != nil {
			if errdefs.IsNotFound(err) {
				return errdefs.NotFound("could not get container for %s", name)
			}
			return err
		}
		rec.HostConfig.Links = append(rec.HostConfig.Links, name+":"+alias)
	}
	return nil
}

// parseLink splits --link's name[:alias]; the alias defaults to the name.
func parseLink(l string) (name, alias string) {
	name, alias, ok := strings.Cut(strings.TrimPrefix(l, "/"), ":")
	if !ok {
		alias = name
	}
	return name, strings.TrimPrefix(alias, "/")
}

// resolveLegacyOptions turns what depends on the moment of the start into
// addresses: --add-host's host-gateway (for a container without a bridge
// of its own; Setup resolves it after attaching the others) and the
// hosts lines of --link, to where the linked containers are now.
func (e *Engine) resolveLegacyOptions(ctx context.Context, c container.Container, req *network.Request) error {
	m, err := e.networks()
	if err != nil {
		return err
	}
	if mode := c.HostConfig.NetworkMode; mode == network.NoneNetwork || mode == network.HostNetwork {
		if req.ExtraHosts, err = m.ResolveHostGateway(ctx, req.ExtraHosts); err != nil {
			return err
		}
	}
	var networks []string
	for _, a := range req.Attachments {
		networks = append(networks, a.Network)
	}
	for _, l := range c.HostConfig.Links {
		name, alias := parseLink(l)
		other, err := e.containers.Get(ctx, name)
		if err != nil {
			return err
		}
		notRunning := errdefs.Conflict("Cannot link to a non running container: /%s AS /%s/%s", other.Name, c.Name, alias)
		if !other.Running() {
			return notRunning
		}
		st, err := m.ReadState(other.ID)
		if errdefs.IsNotFound(err) {
			return notRunning
		}
		if err != nil {
			return err
		}
		entry, ok := network.LinkEntry(st, networks, alias, other.Name)
		if !ok {
			return errdefs.Invalid("Cannot link to /%s, as it does not belong to the default network", other.Name)
		}
		req.Links = append(req.Links, entry)
	}
	return nil
}
