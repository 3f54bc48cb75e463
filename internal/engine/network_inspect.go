package engine

import (
	"context"
	"fmt"
	"strconv"

	"github.com/strata-containers/strata/internal/container"
	"github.com/strata-containers/strata/internal/network"
)

// PortMapping is a published port of a container.
type PortMapping = network.PortMapping

// ContainerPorts returns the ports a running container publishes, as
// they were bound at its start (random host ports resolved).
func (e *Engine) ContainerPorts(ctx context.Context, ref string) ([]PortMapping, error) {
	c, err := e.containers.Get(ctx, ref)
	if err != nil {
		return nil, err
	}
	if !c.Running() {
		return nil, nil
	}
	m, err := e.networks()
	if err != nil {
		return nil, err
	}
	st, err := m.ReadState(c.ID)
	if err != nil {
		return nil, nil
	}
	return st.Ports, nil
}

// NetworkSettings is docker's NetworkSettings of a container's inspect.
type NetworkSettings struct {
	SandboxKey string
	Ports      map[string][]container.PortBinding
	Networks   map[string]EndpointSettings
	IPAddress  string
	Gateway    string
	MacAddress string
}

// EndpointSettings is a container's endpoint on one network.
type EndpointSettings struct {
	Aliases             []string
	NetworkID           string
	EndpointID          string
	Gateway             string
	IPAddress           string
	IPPrefixLen         int
	MacAddress          string
	IPv6Gateway         string
	GlobalIPv6Address   string
	GlobalIPv6PrefixLen int
}

// inspectNetwork fills the network parts of a container's inspect.
func (e *Engine) inspectContainerNetwork(c container.Container, out *ContainerInspect) {
	files := network.FilesIn(e.bundle(c.ID))
	out.HostsPath, out.ResolvConfPath, out.HostnamePath = files.Hosts, files.ResolvConf, files.Hostname
	ns := &NetworkSettings{Ports: map[string][]container.PortBinding{}, Networks: map[string]EndpointSettings{}}
	out.NetworkSettings = ns
	m, err := e.networks()
	if err != nil || !c.Running() {
		return
	}
	st, err := m.ReadState(c.ID)
	if err != nil {
		return
	}
	ns.SandboxKey = st.NSPath
	for i, ep := range st.Endpoints {
		es := EndpointSettings{Aliases: ep.Aliases, NetworkID: ep.NetworkID, EndpointID: c.ID, Gateway: ep.Gateway.String(),
			IPAddress: ep.IP.String(), IPPrefixLen: ep.Bits, MacAddress: ep.MAC}
		if ep.IP6.IsValid() {
			es.IPv6Gateway, es.GlobalIPv6Address, es.GlobalIPv6PrefixLen = ep.Gateway6.String(), ep.IP6.String(), ep.Bits6
		}
		ns.Networks[ep.NetworkName] = es
		if i == 0 {
			ns.IPAddress, ns.Gateway, ns.MacAddress = es.IPAddress, es.Gateway, es.MacAddress
		}
	}
	for _, p := range st.Ports {
		hostIP := p.HostIP
		if hostIP == "" {
			hostIP = "0.0.0.0"
		}
		ns.Ports[p.Key()] = append(ns.Ports[p.Key()], container.PortBinding{HostIP: hostIP, HostPort: strconv.Itoa(int(p.HostPort))})
	}
}

// FormatPort is `port`'s line of a mapping: "80/tcp -> 0.0.0.0:32768".
func FormatPort(p PortMapping) string {
	ip := p.HostIP
	if ip == "" {
		ip = "0.0.0.0"
	}
	return fmt.Sprintf("%s -> %s:%d", p.Key(), ip, p.HostPort)
}

// runningPorts are the ports container c publishes while it runs.
func (e *Engine) runningPorts(c container.Container) []PortMapping {
	if !c.Running() || len(c.HostConfig.PortBindings) == 0 && !c.HostConfig.PublishAllPorts {
		return nil
	}
	m, err := e.networks()
	if err != nil {
		return nil
	}
	st, err := m.ReadState(c.ID)
	if err != nil {
		return nil
	}
	return st.Ports
}
