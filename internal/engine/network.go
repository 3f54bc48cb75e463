package engine

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net/netip"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/strata-containers/strata/internal/config"
	"github.com/strata-containers/strata/internal/errdefs"
	"github.com/strata-containers/strata/internal/network"
	"github.com/strata-containers/strata/internal/network/ipam"
)

// netState opens the network manager on first use: most commands never
// touch networks.
type netState struct {
	once sync.Once
	m    *network.Manager
	err  error
}

// networks returns the network manager of the engine's root. The default
// root's bridge is strata0 and stays, as docker0 does; any other root
// (tests, benchmarks, a second store) gets a bridge of its own,
// strata-<8 hex of the root's hash>, so that two stores never share an
// address space, and it goes with its last container, so that a
// throwaway root leaves nothing on the host.
func (e *Engine) networks() (*network.Manager, error) {
	e.net.once.Do(func() {
		scope := fmt.Sprintf("%x", sha256.Sum256([]byte(filepath.Clean(e.cfg.Root))))[:8]
		bridge, ephemeral := "strata0", false
		if filepath.Clean(e.cfg.Root) != config.DefaultRoot {
			bridge, ephemeral = "strata-"+scope, true
		}
		e.net.m, e.net.err = network.NewManager(filepath.Join(e.cfg.Root, "networks"), e.cfg.RunRoot, bridge, scope)
		if e.net.m != nil {
			e.net.m.EphemeralDefaultBridge = ephemeral
		}
	})
	return e.net.m, e.net.err
}

// NetworkCreateOptions are the options of `network create`.
type NetworkCreateOptions = network.CreateOptions

// NetworkCreate creates a user-defined network and returns its ID.
func (e *Engine) NetworkCreate(ctx context.Context, o NetworkCreateOptions) (string, error) {
	m, err := e.networks()
	if err != nil {
		return "", err
	}
	if o.Name == "" {
		return "", errdefs.Invalid("network name is required")
	}
	if o.Name == network.HostNetwork || o.Name == network.NoneNetwork || o.Name == network.DefaultNetwork {
		return "", errdefs.Conflict("network with name %s already exists", o.Name)
	}
	n, err := m.Create(ctx, o)
	return n.ID, err
}

// NetworkInspect is a network as `network inspect` shows it (docker's shape).
type NetworkInspect struct {
	Name       string
	ID         string `json:"Id"`
	Created    string
	Scope      string
	Driver     string
	EnableIPv6 bool
	IPAM       NetworkIPAM
	Internal   bool
	Attachable bool
	Ingress    bool
	ConfigOnly bool
	Containers map[string]NetworkContainer
	Options    map[string]string
	Labels     map[string]string
}

// NetworkIPAM is a network's address configuration.
type NetworkIPAM struct {
	Driver  string
	Options map[string]string
	Config  []map[string]string
}

// NetworkContainer is a container on a network, as inspect lists it.
type NetworkContainer struct {
	Name        string
	EndpointID  string
	MacAddress  string
	IPv4Address string
	IPv6Address string
}

// NetworkList returns the networks that pass filters (docker's driver, id,
// label, name, scope and type=custom|builtin), by name.
func (e *Engine) NetworkList(ctx context.Context, filters Filters) ([]NetworkInspect, error) {
	if err := filters.check("driver", "id", "label", "label!", "name", "scope", "type"); err != nil {
		return nil, err
	}
	m, err := e.networks()
	if err != nil {
		return nil, err
	}
	ns, err := m.List(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]NetworkInspect, 0, len(ns))
	for _, n := range ns {
		if matchNetwork(filters, n) {
			out = append(out, e.inspectNetwork(m, n))
		}
	}
	return out, nil
}

func matchNetwork(f Filters, n network.Network) bool {
	anyOf := func(key string, match func(v string) bool) bool {
		return len(f[key]) == 0 || slices.ContainsFunc(f[key], match)
	}
	kind := "custom"
	if n.Predefined() {
		kind = "builtin"
	}
	return anyOf("driver", func(v string) bool { return v == n.Driver }) &&
		anyOf("id", func(v string) bool { return strings.HasPrefix(n.ID, v) }) &&
		anyOf("name", func(v string) bool { return strings.Contains(n.Name, v) }) &&
		anyOf("scope", func(v string) bool { return v == "local" }) &&
		anyOf("type", func(v string) bool { return v == kind }) &&
		f.matchLabels(n.Labels)
}

// NetworkInspect returns the network ref names.
func (e *Engine) NetworkInspect(ctx context.Context, ref string) (NetworkInspect, error) {
	m, err := e.networks()
	if err != nil {
		return NetworkInspect{}, err
	}
	n, err := m.Get(ctx, ref)
	if err != nil {
		return NetworkInspect{}, err
	}
	return e.inspectNetwork(m, n), nil
}

func (e *Engine) inspectNetwork(m *network.Manager, n network.Network) NetworkInspect {
	out := NetworkInspect{Name: n.Name, ID: n.ID, Created: inspectTime(n.Created), Scope: "local",
		Driver: n.Driver, Internal: n.Internal, EnableIPv6: n.IPv6, Options: n.Options, Labels: n.Labels,
		IPAM:       NetworkIPAM{Driver: "default", Options: map[string]string{}, Config: []map[string]string{}},
		Containers: map[string]NetworkContainer{}}
	if n.Subnet.IsValid() {
		cfg := map[string]string{"Subnet": n.Subnet.String(), "Gateway": n.Gateway.String()}
		if n.IPRange.IsValid() {
			cfg["IPRange"] = n.IPRange.String()
		}
		out.IPAM.Config = append(out.IPAM.Config, cfg)
	}
	if n.IPv6 {
		out.IPAM.Config = append(out.IPAM.Config, map[string]string{"Subnet": n.Subnet6.String(), "Gateway": n.Gateway6.String()})
	}
	if !n.IsBridge() {
		return out
	}
	eps, _ := readEndpoints(m, n)
	for ip, ep := range eps {
		mac := ep.MAC // given with --mac-address, else derived from the address
		if mac == "" {
			mac = network.MACFor(ip).String()
		}
		out.Containers[ep.Container] = NetworkContainer{Name: ep.Name, EndpointID: ep.Container,
			MacAddress: mac, IPv4Address: fmt.Sprintf("%s/%d", ip, n.Subnet.Bits())}
	}
	return out
}

// NetworkRemove removes user-defined networks; one with containers on it
// is docker's conflict.
func (e *Engine) NetworkRemove(ctx context.Context, ref string) error {
	m, err := e.networks()
	if err != nil {
		return err
	}
	n, err := m.Get(ctx, ref)
	if err != nil {
		return err
	}
	if n.Predefined() {
		return errdefs.Invalid("%s is a pre-defined network and cannot be removed", n.Name)
	}
	_ = m.Sweep(ctx, e.containerExists(ctx))
	if n.IsBridge() {
		eps, err := readEndpoints(m, n)
		if err != nil {
			return err
		}
		if len(eps) > 0 {
			return errdefs.Conflict("error while removing network: network %s id %s has active endpoints", n.Name, n.ID)
		}
	}
	return m.RemoveNetwork(ctx, n)
}

// NetworkPrune removes the user-defined networks no container is on, and
// returns their names.
func (e *Engine) NetworkPrune(ctx context.Context) ([]string, error) {
	list, err := e.NetworkList(ctx, Filters{"type": {"custom"}})
	if err != nil {
		return nil, err
	}
	var removed []string
	for _, n := range list {
		if len(n.Containers) > 0 {
			continue
		}
		if err := e.NetworkRemove(ctx, n.ID); err == nil {
			removed = append(removed, n.Name)
		} else if !errdefs.IsConflict(err) {
			return removed, err
		}
	}
	sort.Strings(removed)
	return removed, nil
}

// containerExists is the liveness test of the network sweep: a container
// whose record is gone holds no network resources.
func (e *Engine) containerExists(ctx context.Context) func(id string) bool {
	return func(id string) bool {
		if strings.HasPrefix(id, buildNetPrefix) {
			return e.buildNetAlive(id) // build_network.go
		}
		_, err := e.containers.Get(ctx, id)
		return !errdefs.IsNotFound(err)
	}
}

func readEndpoints(m *network.Manager, n network.Network) (map[netip.Addr]ipam.Endpoint, error) {
	return m.Endpoints(n)
}
