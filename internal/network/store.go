package network

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/strata-containers/strata/internal/atomicfile"
	"github.com/strata-containers/strata/internal/errdefs"
	"github.com/strata-containers/strata/internal/lockfile"
)

// Drivers.
const (
	DriverBridge = "bridge"
	DriverHost   = "host"
	DriverNull   = "null"
)

// Names of the predefined networks.
const (
	DefaultNetwork = "bridge"
	HostNetwork    = "host"
	NoneNetwork    = "none"
)

// Network is a network's record, as `network inspect` shows it.
type Network struct {
	ID       string            `json:"Id"`
	Name     string            `json:"Name"`
	Driver   string            `json:"Driver"`
	Created  time.Time         `json:"Created"`
	Subnet   netip.Prefix      `json:"Subnet,omitzero"`
	Gateway  netip.Addr        `json:"Gateway,omitzero"`
	IPRange  netip.Prefix      `json:"IPRange,omitzero"`
	Internal bool              `json:"Internal"`
	IPv6     bool              `json:"EnableIPv6"`
	Subnet6  netip.Prefix      `json:"Subnet6,omitzero"`
	Gateway6 netip.Addr        `json:"Gateway6,omitzero"`
	Labels   map[string]string `json:"Labels"`
	Options  map[string]string `json:"Options"`
	Bridge   string            `json:"Bridge,omitempty"` // the host's bridge interface
}

// IsBridge reports whether n gives containers a veth on a bridge.
func (n Network) IsBridge() bool { return n.Driver == DriverBridge }

// Predefined reports whether n is one of bridge, host and none, which
// cannot be removed.
func (n Network) Predefined() bool {
	return n.Name == DefaultNetwork || n.Name == HostNetwork || n.Name == NoneNetwork
}

// Store holds the network records of one root.
type Store struct {
	root   string
	scope  string
	bridge string // the default network's bridge
	lock   *lockfile.Locker
}

// Open opens (creating) the store at root; defaultBridge names the default
// network's bridge interface (strata0 for the default root), scope names
// the store in shared host state (firewall rules).
func Open(root, defaultBridge, scope string) (*Store, error) {
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, fmt.Errorf("creating network store: %w", err)
	}
	lk, err := lockfile.New(filepath.Join(root, "lock"))
	if err != nil {
		return nil, err
	}
	return &Store{root: root, scope: scope, bridge: defaultBridge, lock: lk}, nil
}

// Close releases the store's lock file.
func (s *Store) Close() error { return s.lock.Close() }

func (s *Store) dir(id string) string { return filepath.Join(s.root, id) }

// CreateOptions are the options of `network create`.
type CreateOptions struct {
	Name     string
	Driver   string
	Subnet   string
	Gateway  string
	IPRange  string
	Internal bool
	IPv6     bool
	Subnet6  string // with IPv6; "": a ULA /64 derived from the network's ID
	Labels   map[string]string
	Options  map[string]string
}

// Create records a new bridge network. Its bridge is made when its first
// container attaches.
func (s *Store) Create(ctx context.Context, o CreateOptions) (Network, error) {
	if err := s.lock.LockContext(ctx); err != nil {
		return Network{}, err
	}
	defer s.lock.Unlock()
	if _, err := s.byName(o.Name); err == nil {
		return Network{}, errdefs.Conflict("network with name %s already exists", o.Name)
	}
	n, err := s.newNetwork(o)
	if err != nil {
		return n, err
	}
	return n, s.write(n)
}

func (s *Store) newNetwork(o CreateOptions) (Network, error) {
	n := Network{ID: newID(), Name: o.Name, Driver: o.Driver, Created: time.Now().UTC(),
		Internal: o.Internal, Labels: orEmpty(o.Labels), Options: orEmpty(o.Options)}
	if n.Driver == "" {
		n.Driver = DriverBridge
	}
	if n.Driver != DriverBridge {
		return n, errdefs.NotFound("plugin %q not found", n.Driver)
	}
	if n.Bridge = o.Options["com.docker.network.bridge.name"]; n.Bridge == "" {
		n.Bridge = "st-" + n.ID[:12]
	}
	if err := s.assignSubnet(&n, o); err != nil {
		return n, err
	}
	return n, assignSubnet6(&n, o)
}

// assignSubnet6 gives an IPv6 network its prefix (a unique local /64 made
// from the network's ID unless given) and gateway (the prefix's ::1).
func assignSubnet6(n *Network, o CreateOptions) error {
	if !o.IPv6 {
		if o.Subnet6 != "" {
			return errdefs.Invalid("an IPv6 subnet needs --ipv6")
		}
		return nil
	}
	n.IPv6 = true
	if o.Subnet6 == "" {
		id := sha256Sum(n.ID)
		n.Subnet6 = netip.PrefixFrom(netip.AddrFrom16([16]byte{0xfd, id[0], id[1], id[2], id[3], id[4], id[5], id[6]}), 64)
	} else {
		p, err := netip.ParsePrefix(o.Subnet6)
		if err != nil || !p.Addr().Is6() || p.Bits() > 120 {
			return errdefs.Invalid("invalid IPv6 subnet %s", o.Subnet6)
		}
		n.Subnet6 = p.Masked()
	}
	n.Gateway6 = n.Subnet6.Addr().Next()
	return nil
}

func (s *Store) assignSubnet(n *Network, o CreateOptions) error {
	var err error
	if o.Subnet == "" {
		taken, err := s.subnetsInUse()
		if err != nil {
			return err
		}
		if n.Subnet, err = FreeSubnet(taken); err != nil {
			return err
		}
	} else if n.Subnet, err = netip.ParsePrefix(o.Subnet); err != nil {
		return errdefs.Invalid("invalid subnet %s: want an address and a prefix length, e.g. 10.1.0.0/24", o.Subnet)
	} else if !n.Subnet.Addr().Is4() {
		return errdefs.Invalid("invalid subnet %s: only IPv4 CIDRs are supported", o.Subnet)
	}
	n.Subnet = n.Subnet.Masked()
	if o.IPRange != "" {
		if n.IPRange, err = netip.ParsePrefix(o.IPRange); err != nil || !n.Subnet.Contains(n.IPRange.Addr()) || n.IPRange.Bits() < n.Subnet.Bits() {
			return errdefs.Invalid("invalid ip-range %s: it must be within subnet %s", o.IPRange, n.Subnet)
		}
		n.IPRange = n.IPRange.Masked()
	}
	if o.Gateway == "" {
		n.Gateway = n.Subnet.Addr().Next()
	} else if n.Gateway, err = netip.ParseAddr(o.Gateway); err != nil || !n.Subnet.Contains(n.Gateway) {
		return errdefs.Invalid("invalid gateway %s: it must be an address of subnet %s", o.Gateway, n.Subnet)
	}
	return nil
}

// subnetsInUse are the host's routes and the subnets of strata's networks.
func (s *Store) subnetsInUse() ([]netip.Prefix, error) {
	taken, err := hostRoutes()
	if err != nil {
		return nil, err
	}
	ns, err := s.list()
	if err != nil {
		return nil, err
	}
	for _, n := range ns {
		if n.Subnet.IsValid() {
			taken = append(taken, n.Subnet)
		}
	}
	return taken, nil
}

// Get returns the network named ref: a name, an ID or a unique ID prefix.
// The predefined networks exist from the first Get on.
func (s *Store) Get(ctx context.Context, ref string) (Network, error) {
	if err := s.ensurePredefined(ctx); err != nil {
		return Network{}, err
	}
	if n, err := s.byName(ref); err == nil {
		return n, nil
	}
	ns, err := s.list()
	if err != nil {
		return Network{}, err
	}
	var found []Network
	for _, n := range ns {
		if n.ID == ref {
			return n, nil
		}
		if len(ref) >= 1 && strings.HasPrefix(n.ID, ref) {
			found = append(found, n)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return Network{}, errdefs.NotFound("network %s not found", ref)
	}
	return Network{}, errdefs.Conflict("network %s is ambiguous (%d matches found based on ID prefix)", ref, len(found))
}

// List returns every network, the predefined ones included, by name.
func (s *Store) List(ctx context.Context) ([]Network, error) {
	if err := s.ensurePredefined(ctx); err != nil {
		return nil, err
	}
	ns, err := s.list()
	sort.Slice(ns, func(i, j int) bool { return ns[i].Name < ns[j].Name })
	return ns, err
}

// Remove deletes network id's record and allocations; the caller has
// detached every container and removed its bridge.
func (s *Store) Remove(ctx context.Context, id string) error {
	if err := s.lock.LockContext(ctx); err != nil {
		return err
	}
	defer s.lock.Unlock()
	tmp := filepath.Join(s.root, atomicfile.TempPrefix+"deleted-"+id)
	if err := os.Rename(s.dir(id), tmp); err != nil {
		return fmt.Errorf("removing network %s: %w", id, err)
	}
	return os.RemoveAll(tmp)
}

func (s *Store) ensurePredefined(ctx context.Context) error {
	if _, err := os.Stat(s.dir(predefinedID(s.scope, NoneNetwork))); err == nil {
		return nil
	}
	if err := s.lock.LockContext(ctx); err != nil {
		return err
	}
	defer s.lock.Unlock()
	for _, name := range []string{HostNetwork, DefaultNetwork, NoneNetwork} {
		if _, err := s.byName(name); err == nil {
			continue
		}
		n, err := s.predefined(name)
		if err != nil {
			return err
		}
		if err := s.write(n); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) predefined(name string) (Network, error) {
	n := Network{ID: predefinedID(s.scope, name), Name: name, Created: time.Now().UTC(),
		Labels: map[string]string{}, Options: map[string]string{}}
	switch name {
	case HostNetwork:
		n.Driver = DriverHost
	case NoneNetwork:
		n.Driver = DriverNull
	default:
		n.Driver, n.Bridge = DriverBridge, s.bridge
		n.Options["com.docker.network.bridge.name"] = s.bridge
		n.Options["com.docker.network.bridge.default_bridge"] = "true"
		if err := s.assignSubnet(&n, CreateOptions{}); err != nil {
			return n, err
		}
	}
	return n, nil
}

// predefinedID is a stable ID per store for the predefined networks.
func predefinedID(scope, name string) string {
	return fmt.Sprintf("%x", sha256Sum(scope+"/"+name))
}

func (s *Store) byName(name string) (Network, error) {
	ns, err := s.list()
	if err != nil {
		return Network{}, err
	}
	for _, n := range ns {
		if n.Name == name {
			return n, nil
		}
	}
	return Network{}, errdefs.NotFound("network %s not found", name)
}

func (s *Store) list() ([]Network, error) {
	ents, err := os.ReadDir(s.root)
	if err != nil {
		return nil, err
	}
	var ns []Network
	for _, e := range ents {
		if !e.IsDir() || atomicfile.IsTemp(e.Name()) {
			continue
		}
		n, err := s.read(e.Name())
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		ns = append(ns, n)
	}
	return ns, nil
}

func (s *Store) read(id string) (Network, error) {
	var n Network
	data, err := os.ReadFile(filepath.Join(s.dir(id), "network.json"))
	if err != nil {
		return n, err
	}
	if err := json.Unmarshal(data, &n); err != nil {
		return n, fmt.Errorf("reading network %s: %w", id, err)
	}
	return n, nil
}

func (s *Store) write(n Network) error {
	if err := os.MkdirAll(s.dir(n.ID), 0o700); err != nil {
		return err
	}
	data, err := json.MarshalIndent(n, "", "\t")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(filepath.Join(s.dir(n.ID), "network.json"), data, 0o644)
}

// IPAMPath is the allocation file of network id.
func (s *Store) IPAMPath(id string) string { return filepath.Join(s.dir(id), "ipam.json") }

func newID() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func orEmpty(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}
