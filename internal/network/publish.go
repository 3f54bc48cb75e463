package network

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/strata-containers/strata/internal/errdefs"
	"github.com/strata-containers/strata/internal/network/firewall"
)

// publish chooses host ports (random for 0; a port another container of
// this store publishes is docker's "port is already allocated") and
// installs the DNAT rules to the container's first address. The store
// lock orders the choice against other starts.
func (m *Manager) publish(ctx context.Context, id string, eps []Endpoint, ports []PortMapping) ([]PortMapping, error) {
	if len(ports) == 0 {
		return nil, nil
	}
	if len(eps) == 0 {
		return nil, errdefs.Invalid("ports can be published on bridge networks only")
	}
	if err := m.lock.LockContext(ctx); err != nil {
		return nil, err
	}
	defer m.lock.Unlock()
	used, err := m.publishedPorts(id)
	if err != nil {
		return nil, err
	}
	out := make([]PortMapping, len(ports))
	rules := make([]firewall.Port, len(ports))
	for i, p := range ports {
		if p.HostPort == 0 {
			if p.HostPort, err = freePort(p.Proto); err != nil {
				return nil, errdefs.Unavailable("choosing a host port: %w", err)
			}
		} else if used[portKey(p)] {
			return nil, errdefs.Conflict("Bind for %s:%d failed: port is already allocated", orAny(p.HostIP), p.HostPort)
		}
		used[portKey(p)] = true
		out[i] = p
		rules[i] = firewall.Port{Proto: p.Proto, HostPort: p.HostPort, ContainerPort: p.ContainerPort}
		if p.HostIP != "" {
			rules[i].HostIP, _ = parseAddr(p.HostIP)
		}
	}
	fw, err := m.firewall()
	if err != nil {
		return nil, err
	}
	// The state is written by the caller; a crash before leaves rules
	// without a state file, which Sweep removes.
	return out, fw.SetPorts(ctx, id, eps[0].IP, rules)
}

func portKey(p PortMapping) string { return fmt.Sprintf("%s/%d", p.Proto, p.HostPort) }

func orAny(ip string) string {
	if ip == "" {
		return "0.0.0.0"
	}
	return ip
}

// publishedPorts are the host ports other containers publish.
func (m *Manager) publishedPorts(except string) (map[string]bool, error) {
	used := map[string]bool{}
	ents, err := os.ReadDir(filepath.Dir(m.statePath("x")))
	if os.IsNotExist(err) {
		return used, nil
	}
	if err != nil {
		return nil, err
	}
	for _, e := range ents {
		id, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || id == except {
			continue
		}
		st, err := m.ReadState(id)
		if err != nil {
			continue
		}
		for _, p := range st.Ports {
			used[portKey(p)] = true
		}
	}
	return used, nil
}
