package network

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"

	"github.com/strata-containers/strata/internal/atomicfile"
	"github.com/strata-containers/strata/internal/errdefs"
	"github.com/strata-containers/strata/internal/network/ipam"
)

// Addresses: a network's allocators (IPv4, and IPv6 with --ipv6) and the
// allocations of containers.

// Allocator opens the address allocator of network n.
func (s *Store) Allocator(n Network) (*ipam.Allocator, error) {
	return ipam.Open(s.IPAMPath(n.ID), ipam.Pool{Subnet: n.Subnet, Gateway: n.Gateway, Range: n.IPRange})
}

// Allocator6 opens the IPv6 address allocator of network n.
func (s *Store) Allocator6(n Network) (*ipam.Allocator, error) {
	return ipam.Open(s.ipam6Path(n.ID), ipam.Pool{Subnet: n.Subnet6, Gateway: n.Gateway6})
}

func (s *Store) ipam6Path(id string) string { return filepath.Join(s.dir(id), "ipam6.json") }

// Endpoints returns the containers network n has addresses for.
func (s *Store) Endpoints(n Network) (map[netip.Addr]ipam.Endpoint, error) {
	return ipam.ReadEndpoints(s.IPAMPath(n.ID))
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
	return al.Allocate(ctx, want, ipam.Endpoint{Container: req.ContainerID, Name: req.Name, Aliases: a.Aliases, MAC: a.MAC})
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

func (m *Manager) allocate6(ctx context.Context, n Network, req Request, a Attachment) (netip.Addr, error) {
	al, err := m.Allocator6(n)
	if err != nil {
		return netip.Addr{}, err
	}
	defer al.Close()
	return al.Allocate(ctx, netip.Addr{}, ipam.Endpoint{Container: req.ContainerID, Name: req.Name, Aliases: a.Aliases})
}

// replaceFile writes path through a temporary file and a rename, without
// fsync: for run-root state and allocations, which only matter while the
// machine runs (a process crash cannot lose what the page cache holds).
func replaceFile(path string, data []byte) error {
	tmp := filepath.Join(filepath.Dir(path), atomicfile.TempPrefix+filepath.Base(path))
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
