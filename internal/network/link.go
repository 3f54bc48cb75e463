package network

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/strata-containers/strata/internal/errdefs"
)

// ensureBridge makes n's bridge with the gateway address unless it
// exists, and reports whether it made it.
func ensureBridge(n Network) (bool, error) {
	if _, err := netlink.LinkByName(n.Bridge); err == nil {
		return false, nil
	}
	br := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: n.Bridge}}
	if err := netlink.LinkAdd(br); err != nil && !errors.Is(err, unix.EEXIST) {
		return false, fmt.Errorf("creating bridge %s: %w", n.Bridge, err)
	}
	link, err := netlink.LinkByName(n.Bridge)
	if err != nil {
		return false, err
	}
	addr := &netlink.Addr{IPNet: ipNet(n.Gateway, n.Subnet.Bits())}
	if err := netlink.AddrReplace(link, addr); err != nil {
		return true, fmt.Errorf("addressing bridge %s: %w", n.Bridge, err)
	}
	if n.IPv6 {
		addr6 := &netlink.Addr{IPNet: ipNet(n.Gateway6, n.Subnet6.Bits()), Flags: unix.IFA_F_NODAD}
		if err := netlink.AddrReplace(link, addr6); err != nil {
			return true, fmt.Errorf("addressing bridge %s with %s: %w", n.Bridge, n.Gateway6, err)
		}
	}
	// Lets published ports be reached on 127.0.0.1 from the host: the
	// DNAT'd packet leaves through the bridge with a loopback source,
	// which the kernel drops as martian unless told otherwise, for this
	// interface only.
	_ = writeSysctl("/proc/sys/net/ipv4/conf/"+n.Bridge+"/route_localnet", "1")
	if err := netlink.LinkSetUp(link); err != nil {
		return true, fmt.Errorf("bringing up bridge %s: %w", n.Bridge, err)
	}
	if !n.Internal {
		// Routing between the bridge and the host's uplink needs
		// forwarding on; it is switched on once and never off (other
		// users of the host may rely on it by then).
		if err := ensureForwarding(); err != nil {
			return true, err
		}
	}
	return true, nil
}

func ensureForwarding() error {
	const path = "/proc/sys/net/ipv4/ip_forward"
	if b, err := os.ReadFile(path); err == nil && len(b) > 0 && b[0] == '1' {
		return nil
	}
	if err := writeSysctl(path, "1"); err != nil {
		return errdefs.Unavailable("enabling IPv4 forwarding: %w", err)
	}
	return nil
}

func writeSysctl(path, v string) error { return os.WriteFile(path, []byte(v), 0o644) }

// removeBridge deletes n's bridge if it exists.
func removeBridge(n Network) error {
	link, err := netlink.LinkByName(n.Bridge)
	if err != nil {
		return nil
	}
	if err := netlink.LinkDel(link); err != nil {
		return fmt.Errorf("removing bridge %s: %w", n.Bridge, err)
	}
	return nil
}

// vethSpec is one end-to-end veth pair: host side on a bridge, container
// side in a namespace with an address and, for the first network, the
// default route.
type vethSpec struct {
	HostName, IfName string
	Bridge           string
	NSPath           string
	IP               netip.Addr
	Bits             int
	Gateway          netip.Addr
	MAC              net.HardwareAddr
	DefaultRoute     bool
	IP6, Gateway6    netip.Addr // zero: no IPv6
	Bits6            int
}

// addVeth creates the pair with its peer straight in the namespace and
// configures both ends.
func addVeth(v vethSpec) error {
	br, err := netlink.LinkByName(v.Bridge)
	if err != nil {
		return fmt.Errorf("finding bridge %s: %w", v.Bridge, err)
	}
	ns, err := netns.GetFromPath(v.NSPath)
	if err != nil {
		return fmt.Errorf("opening network namespace %s: %w", v.NSPath, err)
	}
	defer ns.Close()
	veth := &netlink.Veth{
		LinkAttrs: netlink.LinkAttrs{Name: v.HostName, MasterIndex: br.Attrs().Index},
		PeerName:  v.IfName, PeerNamespace: netlink.NsFd(int(ns)), PeerHardwareAddr: v.MAC,
	}
	if err := netlink.LinkAdd(veth); err != nil {
		return fmt.Errorf("creating veth %s: %w", v.HostName, err)
	}
	host, err := netlink.LinkByName(v.HostName)
	if err == nil {
		_ = netlink.LinkSetHairpin(host, true) // a container reaching its own published port
		err = netlink.LinkSetUp(host)
	}
	if err != nil {
		_ = delLink(v.HostName)
		return fmt.Errorf("bringing up veth %s: %w", v.HostName, err)
	}
	if err := configureInside(ns, v); err != nil {
		_ = delLink(v.HostName)
		return err
	}
	return nil
}

// configureInside addresses the container's end, brings it and lo up and
// adds the default route, through a netlink socket opened in the
// namespace (no thread of ours enters it).
func configureInside(ns netns.NsHandle, v vethSpec) error {
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		return fmt.Errorf("opening netlink in %s: %w", v.NSPath, err)
	}
	defer h.Close()
	if lo, err := h.LinkByName("lo"); err == nil {
		if err := h.LinkSetUp(lo); err != nil {
			return fmt.Errorf("bringing up lo: %w", err)
		}
	}
	link, err := h.LinkByName(v.IfName)
	if err != nil {
		return fmt.Errorf("finding %s in the container: %w", v.IfName, err)
	}
	if err := h.AddrAdd(link, &netlink.Addr{IPNet: ipNet(v.IP, v.Bits)}); err != nil {
		return fmt.Errorf("addressing %s: %w", v.IfName, err)
	}
	if err := h.LinkSetUp(link); err != nil {
		return fmt.Errorf("bringing up %s: %w", v.IfName, err)
	}
	if v.DefaultRoute {
		r := &netlink.Route{LinkIndex: link.Attrs().Index, Gw: v.Gateway.AsSlice()}
		if err := h.RouteAdd(r); err != nil {
			return fmt.Errorf("adding default route via %s: %w", v.Gateway, err)
		}
	}
	if v.IP6.IsValid() {
		return configureInside6(h, link, v)
	}
	return nil
}

// configureInside6 adds the IPv6 address, without duplicate address
// detection (IPAM guarantees uniqueness, and DAD would leave the address
// tentative, unusable, for a second or more), and the IPv6 default route.
func configureInside6(h *netlink.Handle, link netlink.Link, v vethSpec) error {
	addr := &netlink.Addr{IPNet: ipNet(v.IP6, v.Bits6), Flags: unix.IFA_F_NODAD}
	if err := h.AddrAdd(link, addr); err != nil {
		return fmt.Errorf("addressing %s with %s: %w", v.IfName, v.IP6, err)
	}
	if !v.DefaultRoute {
		return nil
	}
	_, all, _ := net.ParseCIDR("::/0")
	r := &netlink.Route{LinkIndex: link.Attrs().Index, Dst: all, Gw: v.Gateway6.AsSlice()}
	if err := h.RouteAdd(r); err != nil {
		return fmt.Errorf("adding IPv6 default route via %s: %w", v.Gateway6, err)
	}
	return nil
}

// loUp brings up lo in the namespace at nsPath.
func loUp(nsPath string) error {
	ns, err := netns.GetFromPath(nsPath)
	if err != nil {
		return err
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		return err
	}
	defer h.Close()
	lo, err := h.LinkByName("lo")
	if err == nil {
		err = h.LinkSetUp(lo)
	}
	return err
}

// delLink deletes a link of the host by name; one that is gone is fine.
func delLink(name string) error {
	link, err := netlink.LinkByName(name)
	if err != nil {
		return nil
	}
	if err := netlink.LinkDel(link); err != nil && !errors.Is(err, unix.ENODEV) {
		return fmt.Errorf("removing %s: %w", name, err)
	}
	return nil
}

func ipNet(ip netip.Addr, bits int) *net.IPNet {
	return &net.IPNet{IP: ip.AsSlice(), Mask: net.CIDRMask(bits, ip.BitLen())}
}

// MACFor derives docker's MAC address from an IPv4 address: 02:42 and the
// four bytes of the address.
func MACFor(ip netip.Addr) net.HardwareAddr {
	a := ip.As4()
	return net.HardwareAddr{0x02, 0x42, a[0], a[1], a[2], a[3]}
}
