package network

import (
	"context"
	"fmt"
	"net/netip"
	"strings"

	"github.com/strata-containers/strata/internal/errdefs"
)

// Docker's smaller network options: --expose, --add-host's host-gateway
// and the legacy --link.

// HostGateway is --add-host's special value for the host as seen from the
// default bridge.
const HostGateway = "host-gateway"

// HostEntry is an /etc/hosts line a container gets beside its own: a
// linked container's address and names (--link).
type HostEntry struct {
	IP    netip.Addr
	Names []string
}

// ParseExpose parses --expose values, port[/proto] or a range
// (8000-8002/tcp), into docker's port keys ("80/tcp").
func ParseExpose(values []string) ([]string, error) {
	var out []string
	for _, v := range values {
		ports, proto, _ := strings.Cut(v, "/")
		if proto == "" {
			proto = "tcp"
		}
		lo, hi, err := portRange(ports)
		if err != nil || lo == 0 || (proto != "tcp" && proto != "udp" && proto != "sctp") {
			return nil, errdefs.Invalid("invalid range format for --expose: %s", v)
		}
		for p := int(lo); p <= int(hi); p++ {
			out = append(out, fmt.Sprintf("%d/%s", p, proto))
		}
	}
	return out, nil
}

// ResolveHostGateway replaces host-gateway in --add-host values with the
// address of the default bridge's gateway (the host's address on
// strata0, as docker's on docker0).
func (m *Manager) ResolveHostGateway(ctx context.Context, hosts []string) ([]string, error) {
	var out []string
	for _, h := range hosts {
		name, ip, ok := strings.Cut(h, ":")
		if !ok {
			name, ip, ok = strings.Cut(h, "=")
		}
		if ok && ip == HostGateway {
			n, err := m.Get(ctx, DefaultNetwork)
			if err != nil {
				return nil, err
			}
			if !n.Gateway.IsValid() {
				return nil, errdefs.Unavailable("--add-host %s: the default bridge has no gateway address", h)
			}
			h = name + ":" + n.Gateway.String()
		}
		out = append(out, h)
	}
	return out, nil
}

// LinkEntry is the hosts line of a link to the container that st
// describes: its address on the first of networks (names or IDs) it is on,
// under alias, its name and its short ID (docker's line).
func LinkEntry(st State, networks []string, alias, name string) (HostEntry, bool) {
	for _, want := range networks {
		for _, ep := range st.Endpoints {
			if want == ep.NetworkName || want == ep.NetworkID {
				names := []string{alias, shortID(st.ContainerID)}
				if name != alias {
					names = append(names, name)
				}
				return HostEntry{IP: ep.IP, Names: names}, true
			}
		}
	}
	return HostEntry{}, false
}

func shortID(id string) string { return id[:min(len(id), 12)] }
