// Package firewall owns strata's packet filtering and NAT: one nftables
// table, `table inet strata`, programmed through netlink
// (github.com/google/nftables; nothing shells out to nft).
//
// The table has five base chains: forward and input (filter), prerouting
// and output (dstnat: published ports) and postrouting (srcnat:
// masquerade). Every rule
// carries a comment naming its owner, "strata <scope> net <network-id>" or
// "strata <scope> ctr <container-id>" (the scope names the store, as several
// roots may share a host), and is only ever removed by owner, so:
//
//   - adding an owner's rules first deletes whatever rules it already has,
//     in the same transaction (idempotent: a repeated or crashed start never
//     leaves duplicates);
//   - removing an owner removes exactly its rules;
//   - Sweep removes the rules of owners that no longer exist (reconciling
//     after a crash);
//   - no rule outside the table is read or changed; the table is deleted
//     when its last rule goes.
//
// Rules of a network with bridge B and subnet S (forward chain, policy
// accept, so traffic that is not about a strata bridge is not judged here):
//
//	oifname B ct state established,related accept
//	oifname B iifname B accept                   # within the network
//	oifname B ct status dnat accept              # published ports
//	oifname B drop                               # other networks, outside
//	iifname B drop                               # --internal only
//	postrouting: ip saddr S oifname != B masquerade          # not --internal
//	postrouting: ip6 saddr S6 oifname != B masquerade        # --ipv6, not --internal
//	postrouting: oifname B ip saddr 127.0.0.0/8 masquerade  # localhost → port
//	postrouting: oifname B iifname B ct status dnat masquerade  # hairpin
//
// and, for a network with an embedded DNS server on its gateway G:
//
//	input: ip daddr G iifname != B iifname != lo udp|tcp dport 53 drop
//
// A published port (container C with address A):
//
//	prerouting, output: [ip daddr H | fib daddr type local] <proto> dport P dnat ip to A:Pc
//
// Mutations are serialised by a lock file, so that two processes replacing
// an owner's rules cannot interleave their read and their write.
package firewall

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strings"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"github.com/google/nftables/userdata"

	"github.com/strata-containers/strata/internal/errdefs"
	"github.com/strata-containers/strata/internal/lockfile"
)

// TableName is the name of strata's nftables table (family inet).
const TableName = "strata"

const commentPrefix = "strata "

var table = &nftables.Table{Name: TableName, Family: nftables.TableFamilyINet}

var (
	chainForward = &nftables.Chain{Name: "forward", Table: table, Type: nftables.ChainTypeFilter,
		Hooknum: nftables.ChainHookForward, Priority: nftables.ChainPriorityFilter}
	chainPrerouting = &nftables.Chain{Name: "prerouting", Table: table, Type: nftables.ChainTypeNAT,
		Hooknum: nftables.ChainHookPrerouting, Priority: nftables.ChainPriorityNATDest}
	chainOutput = &nftables.Chain{Name: "output", Table: table, Type: nftables.ChainTypeNAT,
		Hooknum: nftables.ChainHookOutput, Priority: nftables.ChainPriorityNATDest}
	chainPostrouting = &nftables.Chain{Name: "postrouting", Table: table, Type: nftables.ChainTypeNAT,
		Hooknum: nftables.ChainHookPostrouting, Priority: nftables.ChainPriorityNATSource}
	chainInput = &nftables.Chain{Name: "input", Table: table, Type: nftables.ChainTypeFilter,
		Hooknum: nftables.ChainHookInput, Priority: nftables.ChainPriorityFilter}
	chains = []*nftables.Chain{chainForward, chainPrerouting, chainOutput, chainPostrouting, chainInput}
)

// Network is what the rules of a bridge network need.
type Network struct {
	ID       string
	Bridge   string
	Subnet   netip.Prefix
	Subnet6  netip.Prefix // zero: no IPv6
	Gateway  netip.Addr   // where the network's DNS server listens; zero: none
	Internal bool
}

// Port is one published port.
type Port struct {
	Proto         string     // "tcp" or "udp"
	HostIP        netip.Addr // zero: every address of the host
	HostPort      uint16
	ContainerPort uint16
}

// Firewall changes the rules of one strata store in strata's table.
type Firewall struct {
	lock  *lockfile.Locker
	scope string
}

// Open returns a Firewall whose changes are serialised by the lock file at
// lockPath. scope names the store (several roots may share a host, and the
// table): Sweep only ever considers rules of its own scope.
func Open(lockPath, scope string) (*Firewall, error) {
	lk, err := lockfile.New(lockPath)
	if err != nil {
		return nil, err
	}
	return &Firewall{lock: lk, scope: scope}, nil
}

// Close releases the lock file.
func (f *Firewall) Close() error { return f.lock.Close() }

// NetworkOwner and ContainerOwner name the owners of rules.
func NetworkOwner(id string) string   { return "net " + id }
func ContainerOwner(id string) string { return "ctr " + id }

type rule struct {
	chain *nftables.Chain
	exprs []expr.Any
}

func networkRules(n Network) []rule {
	B := n.Bridge
	rs := []rule{
		{chainForward, join(ifname(false, B, true), established(), verdict(expr.VerdictAccept))},
		{chainForward, join(ifname(false, B, true), ifname(true, B, true), verdict(expr.VerdictAccept))},
		{chainForward, join(ifname(false, B, true), dnatted(), verdict(expr.VerdictAccept))},
		{chainForward, join(ifname(false, B, true), verdict(expr.VerdictDrop))},
		{chainPostrouting, join(ifname(false, B, true), addrIn(true, netip.MustParsePrefix("127.0.0.0/8")), masquerade())},
		{chainPostrouting, join(ifname(false, B, true), ifname(true, B, true), dnatted(), masquerade())},
	}
	if n.Gateway.IsValid() {
		// The network's DNS server answers its own containers only.
		for _, proto := range []string{"udp", "tcp"} {
			rs = append(rs, rule{chainInput, join(addrIn(false, netip.PrefixFrom(n.Gateway, 32)),
				ifname(true, B, false), ifname(true, "lo", false), dport(proto, 53), verdict(expr.VerdictDrop))})
		}
	}
	if n.Internal {
		return append(rs, rule{chainForward, join(ifname(true, B, true), verdict(expr.VerdictDrop))})
	}
	rs = append(rs, rule{chainPostrouting, join(addrIn(true, n.Subnet), ifname(false, B, false), masquerade())})
	if n.Subnet6.IsValid() {
		rs = append(rs, rule{chainPostrouting, join(addr6In(true, n.Subnet6), ifname(false, B, false), masquerade())})
	}
	return rs
}

func portRules(ip netip.Addr, ports []Port) []rule {
	var rs []rule
	for _, p := range ports {
		dest := localDest()
		if p.HostIP.IsValid() && !p.HostIP.IsUnspecified() {
			dest = addrIn(false, netip.PrefixFrom(p.HostIP, 32))
		}
		match := join(dest, dport(p.Proto, p.HostPort), dnatTo(ip, p.ContainerPort))
		rs = append(rs, rule{chainPrerouting, match}, rule{chainOutput, match})
	}
	return rs
}

// SetNetwork installs (or replaces) the rules of network n.
func (f *Firewall) SetNetwork(ctx context.Context, n Network) error {
	return f.replace(ctx, NetworkOwner(n.ID), networkRules(n))
}

// SetPorts installs (or replaces) the published ports of container id,
// whose address is ip.
func (f *Firewall) SetPorts(ctx context.Context, id string, ip netip.Addr, ports []Port) error {
	return f.replace(ctx, ContainerOwner(id), portRules(ip, ports))
}

// Remove deletes every rule of owner (NetworkOwner or ContainerOwner).
func (f *Firewall) Remove(ctx context.Context, owner string) error {
	return f.replace(ctx, owner, nil)
}

// Sweep deletes the rules of every owner for which keep is false.
func (f *Firewall) Sweep(ctx context.Context, keep func(owner string) bool) error {
	if err := f.lock.LockContext(ctx); err != nil {
		return err
	}
	defer f.lock.Unlock()
	return f.apply(func(scope, owner string) bool { return scope == f.scope && !keep(owner) }, "", nil)
}

func (f *Firewall) replace(ctx context.Context, owner string, rs []rule) error {
	if err := f.lock.LockContext(ctx); err != nil {
		return err
	}
	defer f.lock.Unlock()
	if err := f.apply(func(scope, o string) bool { return scope == f.scope && o == owner }, owner, rs); err != nil {
		return fmt.Errorf("programming firewall rules of %s: %w", owner, err)
	}
	return nil
}

// apply deletes the rules whose owner drop selects and adds rs tagged
// with owner, in one netlink transaction; the table goes when no rule is
// left in it.
func (f *Firewall) apply(drop func(scope, owner string) bool, owner string, rs []rule) error {
	c, err := nftables.New()
	if err != nil {
		return errdefs.Unavailable("opening nftables: %w", err)
	}
	existing, present, err := listRules(c)
	if err != nil {
		return err
	}
	kept := 0
	for _, r := range existing {
		if scope, o, _ := Owner(r); drop(scope, o) {
			if err := c.DelRule(r); err != nil {
				return err
			}
			continue
		}
		kept++
	}
	switch {
	case len(rs) > 0:
		if !present {
			// Only when missing: re-adding existing base chains makes the
			// commit update them, which costs milliseconds.
			c.AddTable(table)
			for _, ch := range chains {
				c.AddChain(withPolicy(ch))
			}
		}
		tag := userdata.AppendString(nil, userdata.TypeComment, commentPrefix+f.scope+" "+owner)
		for _, r := range rs {
			c.AddRule(&nftables.Rule{Table: table, Chain: r.chain, Exprs: r.exprs, UserData: tag})
		}
	case kept == 0 && present:
		c.DelTable(table)
	}
	return c.Flush()
}

func withPolicy(ch *nftables.Chain) *nftables.Chain {
	accept := nftables.ChainPolicyAccept
	cp := *ch
	cp.Policy = &accept
	return &cp
}

// listRules returns the rules of every chain of strata's table, and
// whether the table exists with all its chains.
func listRules(c *nftables.Conn) ([]*nftables.Rule, bool, error) {
	if _, err := c.ListTableOfFamily(TableName, nftables.TableFamilyINet); err != nil {
		if errors.Is(err, os.ErrNotExist) || strings.Contains(err.Error(), "no such file") {
			return nil, false, nil
		}
		return nil, false, errdefs.Unavailable("listing nftables table %s: %w", TableName, err)
	}
	var all []*nftables.Rule
	complete := true
	for _, ch := range chains {
		rs, err := c.GetRules(table, ch)
		if err != nil && !errors.Is(err, os.ErrNotExist) && !strings.Contains(err.Error(), "no such file") {
			return nil, true, fmt.Errorf("listing rules of chain %s: %w", ch.Name, err)
		}
		complete = complete && err == nil
		all = append(all, rs...)
	}
	return all, complete, nil
}

// Owner returns the scope and the owner ("net <id>" or "ctr <id>") a
// rule's comment names, and whether it has them.
func Owner(r *nftables.Rule) (scope, owner string, ok bool) {
	s, ok := userdata.GetString(r.UserData, userdata.TypeComment)
	if !ok || !strings.HasPrefix(s, commentPrefix) {
		return "", "", false
	}
	scope, owner, ok = strings.Cut(strings.TrimPrefix(s, commentPrefix), " ")
	return scope, owner, ok
}

// Owners lists the owners that have rules of this scope in strata's table.
func (f *Firewall) Owners() ([]string, error) {
	c, err := nftables.New()
	if err != nil {
		return nil, errdefs.Unavailable("opening nftables: %w", err)
	}
	rs, _, err := listRules(c)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []string
	for _, r := range rs {
		if scope, o, ok := Owner(r); ok && scope == f.scope && !seen[o] {
			seen[o] = true
			out = append(out, o)
		}
	}
	return out, nil
}

// TableExists reports whether strata's table is present.
func TableExists() (bool, error) {
	c, err := nftables.New()
	if err != nil {
		return false, err
	}
	_, present, err := listRules(c)
	return present, err
}
