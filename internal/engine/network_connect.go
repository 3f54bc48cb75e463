package engine

import (
	"context"
	"slices"
	"strings"

	"github.com/strata-containers/strata/internal/container"
	"github.com/strata-containers/strata/internal/errdefs"
	"github.com/strata-containers/strata/internal/network"
)

// NetworkConnectOptions are the options of `network connect`.
type NetworkConnectOptions struct {
	Aliases []string
	IP      string
}

// NetworkConnect connects a container to a network: recorded for its
// next starts, and made now if it runs.
func (e *Engine) NetworkConnect(ctx context.Context, netRef, ref string, o NetworkConnectOptions) error {
	m, c, n, unlock, err := e.connectTarget(ctx, netRef, ref)
	if err != nil {
		return err
	}
	defer unlock()
	conns, err := m.ReadConnections(c.ID)
	if err != nil {
		return err
	}
	if e.attachedTo(m, c, conns, n) {
		return errdefs.Conflict("endpoint with name %s already exists in network %s", c.Name, n.Name)
	}
	a := network.Attachment{Network: n.ID, Aliases: o.Aliases, IP: o.IP}
	conns.Disconnected = slices.DeleteFunc(conns.Disconnected, func(id string) bool { return id == n.ID })
	if !slices.ContainsFunc(e.recordNetworks(m, c), func(r network.Network) bool { return r.ID == n.ID }) {
		conns.Connected = append(conns.Connected, a)
	}
	if c.Running() {
		if _, err := m.Connect(ctx, e.networkRequest(c, e.bundle(c.ID)), a); err != nil {
			return err
		}
		if n.Name != network.DefaultNetwork {
			if err := e.ensureDNS(ctx, n.ID); err != nil {
				return err
			}
		}
	}
	return m.WriteConnections(c.ID, conns)
}

// NetworkDisconnect disconnects a container from a network.
func (e *Engine) NetworkDisconnect(ctx context.Context, netRef, ref string) error {
	m, c, n, unlock, err := e.connectTarget(ctx, netRef, ref)
	if err != nil {
		return err
	}
	defer unlock()
	conns, err := m.ReadConnections(c.ID)
	if err != nil {
		return err
	}
	if !e.attachedTo(m, c, conns, n) {
		return errdefs.Invalid("container %s is not connected to network %s", c.Name, n.Name)
	}
	conns.Connected = slices.DeleteFunc(conns.Connected, func(a network.Attachment) bool {
		got, err := m.Get(ctx, a.Network)
		return err == nil && got.ID == n.ID
	})
	if slices.ContainsFunc(e.recordNetworks(m, c), func(r network.Network) bool { return r.ID == n.ID }) {
		conns.Disconnected = append(conns.Disconnected, n.ID)
	}
	if c.Running() {
		if err := m.Disconnect(ctx, e.networkRequest(c, e.bundle(c.ID)), n.ID); err != nil {
			return err
		}
	}
	return m.WriteConnections(c.ID, conns)
}

// connectTarget resolves both sides and takes the container's lock.
func (e *Engine) connectTarget(ctx context.Context, netRef, ref string) (*network.Manager, container.Container, network.Network, func(), error) {
	var c container.Container
	var n network.Network
	m, err := e.networks()
	if err != nil {
		return nil, c, n, nil, err
	}
	if n, err = m.Get(ctx, netRef); err != nil {
		return nil, c, n, nil, err
	}
	if c, err = e.containers.Get(ctx, ref); err != nil {
		return nil, c, n, nil, err
	}
	mode := c.HostConfig.NetworkMode
	if !n.IsBridge() || mode == network.HostNetwork || mode == network.NoneNetwork || strings.HasPrefix(mode, "container:") {
		return nil, c, n, nil, errdefs.Invalid("container cannot be disconnected from host network or connected to host network")
	}
	unlock, err := e.containers.Lock(ctx, c.ID)
	if err != nil {
		return nil, c, n, nil, err
	}
	if c, err = e.containers.Get(ctx, c.ID); err != nil {
		unlock()
		return nil, c, n, nil, err
	}
	return m, c, n, unlock, nil
}

// recordNetworks are the networks the container's record names.
func (e *Engine) recordNetworks(m *network.Manager, c container.Container) []network.Network {
	var out []network.Network
	for name := range c.NetworkingConfig.EndpointsConfig {
		if n, err := m.Get(context.Background(), name); err == nil {
			out = append(out, n)
		}
	}
	return out
}

// attachedTo reports whether the container is (to be) on n.
func (e *Engine) attachedTo(m *network.Manager, c container.Container, conns network.Connections, n network.Network) bool {
	if slices.Contains(conns.Disconnected, n.ID) {
		return false
	}
	for _, a := range conns.Connected {
		if got, err := m.Get(context.Background(), a.Network); err == nil && got.ID == n.ID {
			return true
		}
	}
	return slices.ContainsFunc(e.recordNetworks(m, c), func(r network.Network) bool { return r.ID == n.ID })
}
