package network

import (
	"fmt"
	"net"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	"github.com/strata-containers/strata/internal/errdefs"
)

// PortMapping is one published port: a host port to a container port.
type PortMapping struct {
	HostIP        string `json:"HostIp"` // "" or "0.0.0.0": every address
	HostPort      uint16 `json:"HostPort"`
	ContainerPort uint16 `json:"ContainerPort"`
	Proto         string `json:"Proto"` // tcp or udp
}

// Key is docker's port key, "80/tcp".
func (p PortMapping) Key() string { return fmt.Sprintf("%d/%s", p.ContainerPort, p.Proto) }

// ParsePublish parses -p values, [ip:][hostPort:]containerPort[/proto]
// with ranges (8000-8001:80-81), into single mappings; a host port of 0
// is chosen when the container starts.
func ParsePublish(values []string) ([]PortMapping, error) {
	var out []PortMapping
	for _, v := range values {
		ms, err := parseOne(v)
		if err != nil {
			return nil, errdefs.Invalid("invalid publish spec %q: %w", v, err)
		}
		out = append(out, ms...)
	}
	return out, nil
}

func parseOne(v string) ([]PortMapping, error) {
	rest, proto, _ := strings.Cut(v, "/")
	if proto == "" {
		proto = "tcp"
	}
	if proto != "tcp" && proto != "udp" {
		return nil, fmt.Errorf("invalid proto: %s", proto)
	}
	var hostIP, hostPorts, ctrPorts string
	if i := strings.LastIndex(rest, ":"); i < 0 {
		ctrPorts = rest
	} else {
		ctrPorts, rest = rest[i+1:], rest[:i]
		if j := strings.LastIndex(rest, ":"); j < 0 {
			hostPorts = rest
		} else {
			hostIP, hostPorts = strings.Trim(rest[:j], "[]"), rest[j+1:]
		}
	}
	if hostIP != "" {
		if _, err := netip.ParseAddr(hostIP); err != nil {
			return nil, fmt.Errorf("invalid IP address: %s", hostIP)
		}
	}
	cLo, cHi, err := portRange(ctrPorts)
	if err != nil || cLo == 0 {
		return nil, fmt.Errorf("invalid containerPort: %s", ctrPorts)
	}
	hLo, hHi := uint16(0), uint16(0)
	if hostPorts != "" {
		if hLo, hHi, err = portRange(hostPorts); err != nil {
			return nil, fmt.Errorf("invalid hostPort: %s", hostPorts)
		}
		if hHi-hLo != cHi-cLo && hLo != hHi {
			return nil, fmt.Errorf("port ranges don't match in size")
		}
	}
	var out []PortMapping
	for p := cLo; ; p++ {
		m := PortMapping{HostIP: hostIP, ContainerPort: p, Proto: proto}
		if hLo != 0 {
			m.HostPort = hLo + (p - cLo)
		}
		out = append(out, m)
		if p == cHi {
			break
		}
	}
	return out, nil
}

func portRange(s string) (uint16, uint16, error) {
	lo, hi, isRange := strings.Cut(s, "-")
	l, err := strconv.ParseUint(lo, 10, 16)
	if err != nil {
		return 0, 0, err
	}
	if !isRange {
		return uint16(l), uint16(l), nil
	}
	h, err := strconv.ParseUint(hi, 10, 16)
	if err != nil || h < l {
		return 0, 0, fmt.Errorf("invalid range %s", s)
	}
	return uint16(l), uint16(h), nil
}

// ExposedMappings turns the image's exposed ports ("80/tcp") into
// mappings to random host ports (-P).
func ExposedMappings(exposed []string) []PortMapping {
	var out []PortMapping
	sort.Strings(exposed)
	for _, e := range exposed {
		ms, err := parseOne(e)
		if err == nil {
			out = append(out, ms...)
		}
	}
	return out
}

// freePort asks the kernel for a free port of proto, as docker's port
// allocator picks from the ephemeral range.
func freePort(proto string) (uint16, error) {
	if proto == "udp" {
		c, err := net.ListenPacket("udp4", ":0")
		if err != nil {
			return 0, err
		}
		defer c.Close()
		return uint16(c.LocalAddr().(*net.UDPAddr).Port), nil
	}
	l, err := net.Listen("tcp4", ":0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return uint16(l.Addr().(*net.TCPAddr).Port), nil
}
