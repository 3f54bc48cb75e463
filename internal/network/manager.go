package network

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"sync"

	"github.com/strata-containers/strata/internal/atomicfile"
	"github.com/strata-containers/strata/internal/errdefs"
	"github.com/strata-containers/strata/internal/lockfile"
	"github.com/strata-containers/strata/internal/network/firewall"
	"github.com/strata-containers/strata/internal/network/ipam"
)

// Attachment is a container's wish to be on one network.
type Attachment struct {
	Network string   `json:"Network"` // name or ID
	Aliases []string `json:"Aliases,omitempty"`
	IP      string   `json:"IPv4Address,omitempty"`
	MAC     string   `json:"MacAddress,omitempty"`
}

// Request is what Setup needs to know of a container.
type Request struct {
	ContainerID, Name, Hostname string
	Attachments                 []Attachment
	Ports                       []PortMapping
	DNS, DNSSearch, DNSOptions  []string
	ExtraHosts                  []string
	FilesDir                    string // where hosts, resolv.conf and hostname go
}

// Endpoint is a container's attachment as made.
type Endpoint struct {
	NetworkID   string     `json:"NetworkID"`
	NetworkName string     `json:"NetworkName"`
	IP          netip.Addr `json:"IPAddress"`
	Bits        int        `json:"IPPrefixLen"`
	Gateway     netip.Addr `json:"Gateway"`
	MAC         string     `json:"MacAddress"`
	HostIf      string     `json:"HostIf"`
	IfName      string     `json:"IfName"`
	Aliases     []string   `json:"Aliases,omitempty"`
	UserDefined bool       `json:"UserDefined"` // served by the embedded DNS
	IP6         netip.Addr `json:"GlobalIPv6Address,omitzero"`
	Bits6       int        `json:"GlobalIPv6PrefixLen,omitempty"`
	Gateway6    netip.Addr `json:"IPv6Gateway,omitzero"`
}

// State is a started container's networking, kept until teardown.
type State struct {
	ContainerID string        `json:"ContainerID"`
	NSPath      string        `json:"NSPath"`
	Endpoints   []Endpoint    `json:"Endpoints"`
	Ports       []PortMapping `json:"Ports"`
}

// Manager sets up and tears down containers' networking.
type Manager struct {
	*Store
	runRoot string
	// EphemeralDefaultBridge: the default network's bridge and rules go
	// with its last container (stores other than the default root: tests
	// and benchmarks leave nothing on the host). Otherwise bridges stay
	// until their network is removed, as docker0 and docker's networks.
	EphemeralDefaultBridge bool
	fwOnce                 sync.Once
	fw                     *firewall.Firewall
	fwErr                  error
}

// NewManager opens the network store at root; namespaces go under
// runRoot/netns.
func NewManager(root, runRoot, defaultBridge, scope string) (*Manager, error) {
	s, err := Open(root, defaultBridge, scope)
	if err != nil {
		return nil, err
	}
	return &Manager{Store: s, runRoot: runRoot}, nil
}

func (m *Manager) firewall() (*firewall.Firewall, error) {
	m.fwOnce.Do(func() { m.fw, m.fwErr = firewall.Open(filepath.Join(m.root, "firewall.lock"), m.scope) })
	return m.fw, m.fwErr
}

// NSPath is where container id's network namespace is bound.
func (m *Manager) NSPath(id string) string { return filepath.Join(m.runRoot, "netns", id) }

// statePath is container id's network state: under the run root, as it
// means nothing after a reboot (the namespace and the veths are gone).
func (m *Manager) statePath(id string) string {
	return filepath.Join(m.runRoot, "networks", id+".json")
}

// ReadState returns container id's networking, or a not-found error.
func (m *Manager) ReadState(id string) (State, error) {
	var st State
	data, err := os.ReadFile(m.statePath(id))
	if errors.Is(err, os.ErrNotExist) {
		return st, errdefs.NotFound("no network state for container %s", id)
	}
	if err != nil {
		return st, err
	}
	return st, json.Unmarshal(data, &st)
}

func (m *Manager) writeState(st State) error {
	if err := os.MkdirAll(filepath.Dir(m.statePath(st.ContainerID)), 0o700); err != nil {
		return err
	}
	data, err := json.Marshal(st)
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(m.statePath(st.ContainerID), data, 0o644)
}

// Setup gives a container a new network namespace attached to req's
// networks, publishes its ports and writes its files. What a previous
// run left is torn down first. On failure nothing is left.
func (m *Manager) Setup(ctx context.Context, req Request) (st State, err error) {
	if err := m.Teardown(ctx, req.ContainerID); err != nil {
		return st, err
	}
	st = State{ContainerID: req.ContainerID, NSPath: m.NSPath(req.ContainerID)}
	// The state is recorded before anything is made, so that Sweep knows
	// the addresses being handed out are held; the veths need no record:
	// they go with the namespace.
	if err := m.writeState(st); err != nil {
		return st, err
	}
	defer func() {
		if err != nil {
			_ = m.writeState(st)
			_ = m.Teardown(context.WithoutCancel(ctx), req.ContainerID)
		}
	}()
	if err := NewNamespace(st.NSPath); err != nil {
		return st, err
	}
	for i, a := range req.Attachments {
		ep, err := m.attach(ctx, req, a, i, st.NSPath)
		if err != nil {
			return st, err
		}
		st.Endpoints = append(st.Endpoints, ep)
	}
	if st.Ports, err = m.publish(ctx, req.ContainerID, st.Endpoints, req.Ports); err != nil {
		return st, err
	}
	if err := m.writeState(st); err != nil {
		return st, err
	}
	return st, WriteFiles(req, st)
}

// WriteFiles writes the container's hosts, resolv.conf and hostname.
func WriteFiles(req Request, st State) error {
	h := HostsOptions{Hostname: req.Hostname, ExtraHosts: req.ExtraHosts}
	r := ResolvOptions{Nameservers: req.DNS, Search: req.DNSSearch, Options: req.DNSOptions}
	for _, ep := range st.Endpoints {
		h.Addresses = append(h.Addresses, ep.IP)
		if ep.IP6.IsValid() {
			h.Addresses = append(h.Addresses, ep.IP6)
		}
		if ep.UserDefined && len(req.DNS) == 0 && len(r.Nameservers) == 0 {
			// The embedded server; it forwards the rest to the host's.
			r.Nameservers = []string{ep.Gateway.String()}
		}
	}
	return FilesIn(req.FilesDir).Write(h, r)
}

// attach puts the container on one network under that network's lock:
// the bridge (and its rules) exist while at least one container is on it.
func (m *Manager) attach(ctx context.Context, req Request, a Attachment, index int, nsPath string) (Endpoint, error) {
	n, err := m.Get(ctx, a.Network)
	if err != nil {
		return Endpoint{}, err
	}
	if !n.IsBridge() {
		return Endpoint{}, errdefs.Invalid("container cannot be connected to network %s with driver %s", n.Name, n.Driver)
	}
	unlock, err := m.lockNetwork(ctx, n.ID)
	if err != nil {
		return Endpoint{}, err
	}
	defer unlock()
	if err := m.ensureNetwork(ctx, n); err != nil {
		return Endpoint{}, err
	}
	ep := Endpoint{NetworkID: n.ID, NetworkName: n.Name, Bits: n.Subnet.Bits(), Gateway: n.Gateway,
		HostIf: hostVethName(), IfName: fmt.Sprintf("eth%d", index),
		Aliases: a.Aliases, UserDefined: n.Name != DefaultNetwork}
	if ep.IP, err = m.allocate(ctx, n, req, a); err != nil {
		return ep, err
	}
	mac := MACFor(ep.IP)
	if a.MAC != "" {
		if mac, err = net.ParseMAC(a.MAC); err != nil {
			_ = m.release(ctx, n, req.ContainerID)
			return ep, errdefs.Invalid("invalid MAC address: %s", a.MAC)
		}
	}
	ep.MAC = mac.String()
	if n.IPv6 {
		if ep.IP6, err = m.allocate6(ctx, n, req, a); err != nil {
			_ = m.release(ctx, n, req.ContainerID)
			return ep, err
		}
		ep.Bits6, ep.Gateway6 = n.Subnet6.Bits(), n.Gateway6
	}
	err = addVeth(vethSpec{HostName: ep.HostIf, IfName: ep.IfName, Bridge: n.Bridge, NSPath: nsPath,
		IP: ep.IP, Bits: ep.Bits, Gateway: n.Gateway, MAC: mac, DefaultRoute: index == 0,
		IP6: ep.IP6, Bits6: ep.Bits6, Gateway6: ep.Gateway6})
	if err != nil {
		_ = m.release(ctx, n, req.ContainerID)
		return ep, err
	}
	return ep, nil
}

func (m *Manager) allocate6(ctx context.Context, n Network, req Request, a Attachment) (netip.Addr, error) {
	al, err := m.Allocator6(n)
	if err != nil {
		return netip.Addr{}, err
	}
	defer al.Close()
	return al.Allocate(ctx, netip.Addr{}, ipam.Endpoint{Container: req.ContainerID, Name: req.Name, Aliases: a.Aliases})
}

func (m *Manager) allocate(ctx context.Context, n Network, req Request, a Attachment) (netip.Addr, error) {
	var want netip.Addr
	if a.IP != "" {
		var err error
		if want, err = netip.ParseAddr(a.IP); err != nil {
			return want, errdefs.Invalid("invalid IPv4 address: %s", a.IP)
		}
		if n.Name == DefaultNetwork {
			return want, errdefs.Invalid("user specified IP address is supported on user defined networks only")
		}
	}
	al, err := m.Allocator(n)
	if err != nil {
		return want, err
	}
	defer al.Close()
	return al.Allocate(ctx, want, ipam.Endpoint{Container: req.ContainerID, Name: req.Name, Aliases: a.Aliases})
}

// release frees container id's addresses on n, IPv4 and IPv6.
func (m *Manager) release(ctx context.Context, n Network, id string) error {
	al, err := m.Allocator(n)
	if err != nil {
		return err
	}
	defer al.Close()
	if n.IPv6 {
		al6, err := m.Allocator6(n)
		if err != nil {
			return err
		}
		defer al6.Close()
		if err := al6.Release(ctx, id); err != nil {
			return err
		}
	}
	return al.Release(ctx, id)
}

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

// ensureNetwork makes n's bridge and its rules if the bridge is missing.
func (m *Manager) ensureNetwork(ctx context.Context, n Network) error {
	made, err := ensureBridge(n)
	if err != nil {
		if made {
			_ = removeBridge(n)
		}
		return err
	}
	if !made {
		return nil
	}
	fw, err := m.firewall()
	if err == nil {
		err = fw.SetNetwork(ctx, firewall.Network{ID: n.ID, Bridge: n.Bridge, Subnet: n.Subnet, Subnet6: n.Subnet6, Internal: n.Internal})
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
