package network

import (
	"crypto/sha256"
	"net/netip"
	"strings"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/strata-containers/strata/internal/errdefs"
)

// candidatePools are docker's default address pools: 172.17-31.0.0/16,
// then 192.168.0.0/16 cut into /20s.
func candidatePools() []netip.Prefix {
	var ps []netip.Prefix
	for b := byte(17); b <= 31; b++ {
		ps = append(ps, netip.PrefixFrom(netip.AddrFrom4([4]byte{172, b, 0, 0}), 16))
	}
	for c := 0; c < 256; c += 16 {
		ps = append(ps, netip.PrefixFrom(netip.AddrFrom4([4]byte{192, 168, byte(c), 0}), 20))
	}
	return ps
}

// FreeSubnet returns the first default pool that overlaps none of taken.
func FreeSubnet(taken []netip.Prefix) (netip.Prefix, error) {
	for _, p := range candidatePools() {
		free := true
		for _, t := range taken {
			if t.Overlaps(p) {
				free = false
				break
			}
		}
		if free {
			return p, nil
		}
	}
	return netip.Prefix{}, errdefs.Unavailable("all predefined address pools have been fully subnetted")
}

// hostRoutes are the IPv4 destinations of the host's routes (the default
// route aside), so that a new network does not shadow a network the host
// reaches.
func hostRoutes() ([]netip.Prefix, error) {
	rs, err := netlink.RouteListFiltered(unix.AF_INET, &netlink.Route{Table: unix.RT_TABLE_MAIN}, netlink.RT_FILTER_TABLE)
	if err != nil {
		return nil, errdefs.Unavailable("listing the host's routes: %w", err)
	}
	var out []netip.Prefix
	for _, r := range rs {
		if r.Dst == nil {
			continue
		}
		ones, _ := r.Dst.Mask.Size()
		if a, ok := netip.AddrFromSlice(r.Dst.IP.To4()); ok && ones > 0 {
			out = append(out, netip.PrefixFrom(a, ones))
		}
	}
	return out, nil
}

func sha256Sum(s string) [32]byte { return sha256.Sum256([]byte(s)) }

func parseAddr(s string) (netip.Addr, error) { return netip.ParseAddr(strings.Trim(s, "[]")) }
