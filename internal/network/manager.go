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

	"github.com/strata-containers/strata/internal/errdefs"
	"github.com/strata-containers/strata/internal/network/firewall"
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
	Links                       []HostEntry // resolved by the caller
	FilesDir                    string      // where hosts, resolv.conf and hostname go
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
	// Replaced by rename, without fsync: the run root's state means
	// nothing after a machine crash, and a process crash cannot lose it.
	return replaceFile(m.statePath(st.ContainerID), data)
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
	if len(req.Attachments) == 0 { // disconnected from everything: lo alone
		if err := loUp(st.NSPath); err != nil {
			return st, err
		}
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
	// After the attachments: the default network's subnet may have moved.
	if req.ExtraHosts, err = m.ResolveHostGateway(ctx, req.ExtraHosts); err != nil {
		return st, err
	}
	return st, WriteFiles(req, st)
}

// WriteFiles writes the container's hosts, resolv.conf and hostname.
func WriteFiles(req Request, st State) error {
	h := HostsOptions{Hostname: req.Hostname, ExtraHosts: req.ExtraHosts, Links: req.Links}
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
	if n, err = m.ensureNetwork(ctx, n); err != nil {
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
