package network

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"

	"github.com/strata-containers/strata/internal/errdefs"
	"github.com/strata-containers/strata/internal/lockfile"
	"github.com/strata-containers/strata/internal/network/firewall"
)

// The lives of bridges and of containers' endpoints: made under the
// network's lock, torn down idempotently.

// lockNetwork takes network id's lock, which orders making and removing
// its bridge against attaching to it.
func (m *Manager) lockNetwork(ctx context.Context, id string) (func(), error) {
	lk, err := lockfile.New(filepath.Join(m.dir(id), "lock"))
	if err != nil {
		return nil, err
	}
	if err := lk.LockContext(ctx); err != nil {
		lk.Close()
		return nil, err
	}
	return func() { lk.Unlock(); lk.Close() }, nil
}

// hostLockPath serialises making bridges across every strata store of the
// host: the check that a subnet is free and the bridge that takes it are
// one step, so two stores starting at once never pick the same subnet.
const hostLockPath = "/run/strata-bridges.lock"

// ensureNetwork makes n's bridge and its rules if the bridge is missing,
// and returns n as made (the default network may have moved to a free
// subnet).
func (m *Manager) ensureNetwork(ctx context.Context, n Network) (Network, error) {
	if BridgeIndex(n) != 0 {
		return n, nil
	}
	lk, err := lockfile.New(hostLockPath)
	if err != nil {
		return n, err
	}
	defer lk.Close()
	if err := lk.LockContext(ctx); err != nil {
		return n, err
	}
	defer lk.Unlock()
	if n, err = m.freeSubnet(n); err != nil {
		return n, err
	}
	made, err := ensureBridge(n)
	if err != nil {
		if made {
			_ = removeBridge(n)
		}
		return n, err
	}
	if !made {
		return n, nil
	}
	return n, m.programNetwork(ctx, n)
}

// freeSubnet checks, before n's bridge is made, that no route of the host
// covers n's subnet (another store's bridge, a VPN that came up). The
// default network, which has no container while its bridge is missing,
// moves to a free subnet; a user network's subnet is the user's, and the
// overlap is an error.
func (m *Manager) freeSubnet(n Network) (Network, error) {
	routes, err := hostRoutes()
	if err != nil {
		return n, err
	}
	overlaps := func(p netip.Prefix) bool {
		return slices.ContainsFunc(routes, func(r netip.Prefix) bool { return r.Overlaps(p) })
	}
	if !overlaps(n.Subnet) {
		return n, nil
	}
	if n.Name != DefaultNetwork {
		return n, errdefs.Conflict("subnet %s of network %s overlaps a route of the host", n.Subnet, n.Name)
	}
	others, err := m.list()
	if err != nil {
		return n, err
	}
	taken := routes
	for _, o := range others {
		if o.ID != n.ID && o.Subnet.IsValid() {
			taken = append(taken, o.Subnet)
		}
	}
	if n.Subnet, err = FreeSubnet(taken); err != nil {
		return n, err
	}
	n.Gateway = n.Subnet.Addr().Next()
	return n, m.write(n)
}

// programNetwork installs n's rules on its new bridge.
func (m *Manager) programNetwork(ctx context.Context, n Network) error {
	fw, err := m.firewall()
	if err == nil {
		fn := firewall.Network{ID: n.ID, Bridge: n.Bridge, Subnet: n.Subnet, Subnet6: n.Subnet6, Internal: n.Internal}
		if n.Name != DefaultNetwork {
			fn.Gateway = n.Gateway
		}
		err = fw.SetNetwork(ctx, fn)
	}
	if err != nil {
		_ = removeBridge(n)
		return err
	}
	// A bridge made is the first container after a reboot or a crash, or
	// after an idle spell: the moment to drop rules that outlived their
	// owners.
	return m.reconcileFirewall(ctx, fw)
}

// Teardown removes what Setup made for container id; the last container
// to leave a network takes its bridge and rules with it. Calling it again,
// or for a container that has no networking, does nothing.
func (m *Manager) Teardown(ctx context.Context, id string) error {
	st, err := m.ReadState(id)
	if errdefs.IsNotFound(err) {
		return RemoveNamespace(m.NSPath(id))
	}
	if err != nil {
		return err
	}
	var errs []error
	if len(st.Ports) > 0 {
		if fw, err := m.firewall(); err != nil {
			errs = append(errs, err)
		} else {
			errs = append(errs, fw.Remove(ctx, firewall.ContainerOwner(id)))
		}
	}
	// The namespace first: once unmounted (the container's processes are
	// gone), the kernel destroys it and both ends of every veth with it,
	// in the background; deleting a veth explicitly would wait for an RCU
	// grace period (tens of ms) on the critical path of `run --rm`.
	errs = append(errs, RemoveNamespace(st.NSPath))
	for _, ep := range st.Endpoints {
		errs = append(errs, m.detach(ctx, id, ep))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("tearing down the network of container %s: %w", id, err)
	}
	if err := os.Remove(m.statePath(id)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

func (m *Manager) detach(ctx context.Context, id string, ep Endpoint) error {
	n, err := m.Get(ctx, ep.NetworkID)
	if errdefs.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	unlock, err := m.lockNetwork(ctx, n.ID)
	if err != nil {
		return err
	}
	defer unlock()
	if err := m.release(ctx, n, id); err != nil {
		return err
	}
	if !m.ephemeral(n) {
		return nil
	}
	left, err := m.Endpoints(n)
	if err != nil || len(left) > 0 {
		return err
	}
	return m.removeNetworkState(ctx, n)
}

func (m *Manager) ephemeral(n Network) bool {
	return m.EphemeralDefaultBridge && n.Name == DefaultNetwork
}

// removeNetworkState removes n's bridge and its rules; its DNS server
// notices and exits.
func (m *Manager) removeNetworkState(ctx context.Context, n Network) error {
	fw, err := m.firewall()
	if err != nil {
		return err
	}
	return errors.Join(removeBridge(n), fw.Remove(ctx, firewall.NetworkOwner(n.ID)))
}

// RemoveNetwork removes network n: its bridge, rules and record. The
// caller has checked that no container is on it.
func (m *Manager) RemoveNetwork(ctx context.Context, n Network) error {
	unlock, err := m.lockNetwork(ctx, n.ID)
	if err != nil {
		return err
	}
	err = m.removeNetworkState(ctx, n)
	unlock()
	if err != nil {
		return err
	}
	return m.Remove(ctx, n.ID)
}

// hostVethName is a random name for a veth's host end (docker's style):
// the end of a container's previous run may still be on its way out, so
// the name must not derive from the container.
func hostVethName() string { return "veth" + newID()[:11] }
