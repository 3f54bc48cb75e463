package network

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/strata-containers/strata/internal/lockfile"
	"github.com/strata-containers/strata/internal/network/dns"
	"github.com/strata-containers/strata/internal/network/ipam"
)

// The embedded DNS server of a user-defined network runs as a process of
// its own (`strata network dns-serve <id>`, started by the first container
// that needs it), in the host's namespace, on the network's gateway
// address, port 53: one process per network rather than one per container,
// since it answers for all of them. It holds dns-<ifindex>.lock in the
// network's directory while it serves the bridge with that interface
// index, and exits when that bridge goes (the last container left), so a
// recreated bridge gets a fresh server and a dead one is noticed by its
// free lock.

// BridgeIndex returns the interface index of n's bridge, 0 if it is absent.
func BridgeIndex(n Network) int {
	l, err := netlink.LinkByName(n.Bridge)
	if err != nil {
		return 0
	}
	return l.Attrs().Index
}

// DNSLockPath is the lock a DNS server of n holds while serving the bridge
// with interface index idx.
func (s *Store) DNSLockPath(n Network, idx int) string {
	return filepath.Join(s.dir(n.ID), fmt.Sprintf("dns-%d.lock", idx))
}

// DNSRunning reports whether a server holds n's lock for its current bridge.
func (s *Store) DNSRunning(n Network) bool {
	idx := BridgeIndex(n)
	if idx == 0 {
		return false
	}
	lk, err := lockfile.New(s.DNSLockPath(n, idx))
	if err != nil {
		return false
	}
	defer lk.Close()
	if lk.TryLock() {
		lk.Unlock()
		return false
	}
	return true
}

// ServeDNS serves n's names until its bridge goes or ctx ends; ready is
// called once the server listens (or another one already does). A client
// is answered with the names of every network it is on, as docker's
// server does, not only n's.
func (m *Manager) ServeDNS(ctx context.Context, n Network, ready func()) error {
	s := m.Store
	idx := BridgeIndex(n)
	if idx == 0 {
		ready()
		return nil
	}
	lockPath := s.DNSLockPath(n, idx)
	lk, err := lockfile.New(lockPath)
	if err != nil {
		return err
	}
	defer lk.Close()
	if !lk.TryLock() {
		ready()
		return nil
	}
	defer os.Remove(lockPath)
	names := &nameCache{m: m, network: n.ID, files: map[string]*namesFile{}}
	srv, err := dns.Listen(net.JoinHostPort(n.Gateway.String(), "53"), names.lookup, HostNameservers())
	if err != nil {
		return fmt.Errorf("embedded DNS server of network %s: %w", n.Name, err)
	}
	ready()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-done:
			return nil
		case <-tick.C:
			if BridgeIndex(n) != idx {
				cancel()
			}
		}
	}
}

// nameCache answers names from the allocation files of the networks a
// client is on, each re-read when it changes.
type nameCache struct {
	m       *Manager
	network string // the server's network
	mu      sync.Mutex
	files   map[string]*namesFile // by allocation file
}

type namesFile struct {
	mtime time.Time
	eps   map[netip.Addr]ipam.Endpoint
	names map[string][]netip.Addr
}

func (c *nameCache) lookup(name string, from netip.Addr) []netip.Addr {
	c.mu.Lock()
	defer c.mu.Unlock()
	name = strings.ToLower(name)
	own := c.file(c.m.IPAMPath(c.network))
	nets := []string{c.network}
	if ep, ok := own.eps[from]; ok {
		if st, err := c.m.ReadState(ep.Container); err == nil {
			for _, e := range st.Endpoints {
				if e.UserDefined && e.NetworkID != c.network {
					nets = append(nets, e.NetworkID)
				}
			}
		}
	}
	for _, id := range nets {
		if addrs := c.file(c.m.IPAMPath(id)).names[name]; len(addrs) > 0 {
			return append(addrs, c.file(c.m.ipam6Path(id)).names[name]...)
		}
	}
	return nil
}

// file returns the names of an allocation file, re-read if it changed.
func (c *nameCache) file(path string) *namesFile {
	f := c.files[path]
	if f == nil {
		f = &namesFile{}
		c.files[path] = f
	}
	if fi, err := os.Stat(path); err == nil && !fi.ModTime().Equal(f.mtime) {
		if eps, err := ipam.ReadEndpoints(path); err == nil {
			f.mtime, f.eps, f.names = fi.ModTime(), eps, namesOf(eps)
		}
	}
	return f
}

// namesOf maps each container's name, aliases, ID and short ID to its
// address, as docker's embedded server resolves them.
func namesOf(eps map[netip.Addr]ipam.Endpoint) map[string][]netip.Addr {
	out := map[string][]netip.Addr{}
	for ip, ep := range eps {
		keys := append([]string{ep.Name, ep.Container}, ep.Aliases...)
		if len(ep.Container) >= 12 {
			keys = append(keys, ep.Container[:12])
		}
		for _, k := range keys {
			if k != "" {
				k = strings.ToLower(k)
				out[k] = append(out[k], ip)
			}
		}
	}
	return out
}
