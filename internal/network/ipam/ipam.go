// Package ipam hands out the addresses of one network: each address at most
// once, across processes, until it is released.
//
// On disk, one file per network (the path given to Open, normally
// <root>/networks/<id>/ipam.json) and a lock beside it (ipam.json.lock):
//
//	{"Last": "172.18.0.5", "Endpoints": {"172.18.0.2": {"Container": "<id>", ...}}}
//
// Invariants: the file is only read and rewritten under the exclusive lock
// and replaced atomically (temp + rename), so no two allocations, even by
// fifty concurrent `run`s, see the same free address; the network address,
// the gateway and the broadcast address are never handed out. The fixed
// temporary name (.tmp-ipam.json) is safe because only the lock holder
// writes it. The endpoint
// records are also what the embedded DNS server answers from.
package ipam

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"

	"github.com/strata-containers/strata/internal/atomicfile"
	"github.com/strata-containers/strata/internal/errdefs"
	"github.com/strata-containers/strata/internal/lockfile"
)

// Endpoint is who holds an address.
type Endpoint struct {
	Container string   `json:"Container"` // container ID
	Name      string   `json:"Name"`      // container name
	Aliases   []string `json:"Aliases,omitempty"`
	MAC       string   `json:"MAC,omitempty"`
}

// Pool is a network's address space.
type Pool struct {
	Subnet  netip.Prefix
	Gateway netip.Addr
	Range   netip.Prefix // where dynamic addresses come from; zero: the subnet
}

type file struct {
	Last      netip.Addr              `json:"Last"`
	Endpoints map[netip.Addr]Endpoint `json:"Endpoints"`
}

// Allocator allocates from one network's file.
type Allocator struct {
	path string
	lock *lockfile.Locker
	pool Pool
}

// Open returns the allocator of the file at path for pool.
func Open(path string, pool Pool) (*Allocator, error) {
	lk, err := lockfile.New(path + ".lock")
	if err != nil {
		return nil, err
	}
	if !pool.Range.IsValid() {
		pool.Range = pool.Subnet
	}
	return &Allocator{path: path, lock: lk, pool: pool}, nil
}

// Close releases the lock file.
func (a *Allocator) Close() error { return a.lock.Close() }

// Allocate gives ep an address: want if valid (--ip), else the next free
// one of the range after the last handed out. An endpoint of the same
// container already holding an address gets that one back.
func (a *Allocator) Allocate(ctx context.Context, want netip.Addr, ep Endpoint) (netip.Addr, error) {
	if err := a.lock.LockContext(ctx); err != nil {
		return netip.Addr{}, err
	}
	defer a.lock.Unlock()
	f, err := a.read()
	if err != nil {
		return netip.Addr{}, err
	}
	for ip, held := range f.Endpoints {
		if held.Container == ep.Container {
			delete(f.Endpoints, ip) // a restart: allocate afresh below
		}
	}
	ip, err := a.pick(f, want)
	if err != nil {
		return ip, err
	}
	f.Endpoints[ip] = ep
	if !want.IsValid() {
		f.Last = ip
	}
	return ip, a.write(f)
}

func (a *Allocator) pick(f file, want netip.Addr) (netip.Addr, error) {
	if want.IsValid() {
		if !a.pool.Subnet.Contains(want) || !a.usable(want) {
			return want, errdefs.Invalid("no configured subnet or ip-range contain the IP address %s", want)
		}
		if _, taken := f.Endpoints[want]; taken {
			return want, errdefs.Conflict("address %s already in use", want)
		}
		return want, nil
	}
	start := f.Last
	if !a.pool.Range.Contains(start) {
		start = a.pool.Range.Masked().Addr()
	}
	// Round the range once, the last address handed out included (it
	// may be free again: the whole range of a /30 is that one address).
	for ip := start; ; {
		if ip = ip.Next(); !a.pool.Range.Contains(ip) {
			ip = a.pool.Range.Masked().Addr()
		}
		if _, taken := f.Endpoints[ip]; !taken && a.usable(ip) {
			return ip, nil
		}
		if ip == start {
			break
		}
	}
	return netip.Addr{}, errdefs.Unavailable("no available IPv4 addresses on network %s", a.pool.Subnet)
}

// usable excludes the subnet's network and broadcast addresses and the
// gateway.
func (a *Allocator) usable(ip netip.Addr) bool {
	s := a.pool.Subnet.Masked()
	return ip != s.Addr() && ip != a.pool.Gateway && ip != lastAddr(s)
}

func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().AsSlice()
	for i := range b {
		bitsBefore := i * 8
		switch {
		case bitsBefore >= p.Bits():
			b[i] = 0xff
		case bitsBefore+8 > p.Bits():
			b[i] |= 0xff >> (p.Bits() - bitsBefore)
		}
	}
	ip, _ := netip.AddrFromSlice(b)
	return ip
}

// Release frees every address container holds.
func (a *Allocator) Release(ctx context.Context, container string) error {
	if err := a.lock.LockContext(ctx); err != nil {
		return err
	}
	defer a.lock.Unlock()
	f, err := a.read()
	if err != nil {
		return err
	}
	n := len(f.Endpoints)
	for ip, ep := range f.Endpoints {
		if ep.Container == container {
			delete(f.Endpoints, ip)
		}
	}
	if len(f.Endpoints) == n {
		return nil
	}
	return a.write(f)
}

// Endpoints returns the addresses handed out and their holders.
func (a *Allocator) Endpoints() (map[netip.Addr]Endpoint, error) {
	f, err := ReadEndpoints(a.path)
	return f, err
}

// ReadEndpoints reads the endpoints of the file at path without the lock:
// the file is replaced atomically, so a reader sees a whole version.
func ReadEndpoints(path string) (map[netip.Addr]Endpoint, error) {
	f, err := readFile(path)
	return f.Endpoints, err
}

func (a *Allocator) read() (file, error) { return readFile(a.path) }

func readFile(path string) (file, error) {
	f := file{Endpoints: map[netip.Addr]Endpoint{}}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return f, nil
	}
	if err != nil {
		return f, err
	}
	if err := json.Unmarshal(data, &f); err != nil {
		return f, fmt.Errorf("reading address allocations %s: %w", path, err)
	}
	if f.Endpoints == nil {
		f.Endpoints = map[netip.Addr]Endpoint{}
	}
	return f, nil
}

func (a *Allocator) write(f file) error {
	data, err := json.Marshal(f)
	if err != nil {
		return err
	}
	return replaceFile(a.path, data)
}

// replaceFile writes path through a temporary file and a rename, without
// fsync: allocations only matter while their containers' namespaces
// exist, and none survives a machine crash, while a process crash (the
// case that matters) cannot lose what the page cache holds. An fsync on
// the disk under --root would cost milliseconds on every `run`.
func replaceFile(path string, data []byte) error {
	tmp := filepath.Join(filepath.Dir(path), atomicfile.TempPrefix+filepath.Base(path))
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", tmp, err)
	}
	return os.Rename(tmp, path)
}
