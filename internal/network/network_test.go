package network

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

func TestParsePublish(t *testing.T) {
	got, err := ParsePublish([]string{"80", "127.0.0.1:8080:80/udp", "9000-9001:90-91", "[::1]:7000:70"})
	if err != nil {
		t.Fatal(err)
	}
	want := []PortMapping{
		{ContainerPort: 80, Proto: "tcp"},
		{HostIP: "127.0.0.1", HostPort: 8080, ContainerPort: 80, Proto: "udp"},
		{HostPort: 9000, ContainerPort: 90, Proto: "tcp"},
		{HostPort: 9001, ContainerPort: 91, Proto: "tcp"},
		{HostIP: "::1", HostPort: 7000, ContainerPort: 70, Proto: "tcp"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("mapping %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
	for _, bad := range []string{"x", "80/sctp", "1-3:80-81", "nope:80:80"} {
		if _, err := ParsePublish([]string{bad}); err == nil {
			t.Errorf("-p %s accepted", bad)
		}
	}
}

func TestResolvConfDropsLoopbackResolvers(t *testing.T) {
	host := hostResolv{nameservers: []string{"127.0.0.53", "10.0.0.1"}, search: []string{"example.org"}}
	got := string(resolvFile(ResolvOptions{}, host))
	if got != "nameserver 10.0.0.1\nsearch example.org\n" {
		t.Fatalf("resolv.conf:\n%s", got)
	}
	got = string(resolvFile(ResolvOptions{}, hostResolv{nameservers: []string{"127.0.0.53"}}))
	if !strings.HasPrefix(got, "nameserver 8.8.8.8\n") {
		t.Fatalf("with only loopback resolvers on the host:\n%s", got)
	}
}

func TestFreeSubnetSkipsTaken(t *testing.T) {
	p, err := FreeSubnet([]netip.Prefix{netip.MustParsePrefix("172.17.0.0/16"), netip.MustParsePrefix("172.18.5.0/24")})
	if err != nil || p != netip.MustParsePrefix("172.19.0.0/16") {
		t.Fatalf("got %s, %v", p, err)
	}
}

// TestSetupAndTeardown gives a pretend container a real namespace on a
// real bridge, checks the address and route inside with netlink, and
// checks that teardown leaves no namespace, bridge or rule behind.
func TestSetupAndTeardown(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: creates namespaces, bridges and nftables rules")
	}
	ctx := context.Background()
	dir := t.TempDir()
	m, err := NewManager(filepath.Join(dir, "networks"), filepath.Join(dir, "run"), "strata-nettest", "nettest")
	if err != nil {
		t.Fatal(err)
	}
	m.EphemeralDefaultBridge = true
	t.Cleanup(func() {
		_ = m.Teardown(ctx, "c1")
		if l, err := netlink.LinkByName("strata-nettest"); err == nil {
			_ = netlink.LinkDel(l)
		}
		if fw, err := m.firewall(); err == nil {
			_ = fw.Sweep(ctx, func(string) bool { return false })
		}
	})
	req := Request{ContainerID: "c1", Name: "one", Hostname: "one", FilesDir: filepath.Join(dir, "files"),
		Attachments: []Attachment{{Network: DefaultNetwork}}, Ports: []PortMapping{{ContainerPort: 80, Proto: "tcp"}}}
	st, err := m.Setup(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Endpoints) != 1 || st.Ports[0].HostPort == 0 {
		t.Fatalf("state %+v", st)
	}
	assertInside(t, st)
	hosts, _ := os.ReadFile(FilesIn(req.FilesDir).Hosts)
	if !strings.Contains(string(hosts), st.Endpoints[0].IP.String()+"\tone") {
		t.Fatalf("hosts file lacks the container's address:\n%s", hosts)
	}
	if err := m.Teardown(ctx, "c1"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(st.NSPath); !os.IsNotExist(err) {
		t.Fatalf("namespace file %s left: %v", st.NSPath, err)
	}
	if _, err := netlink.LinkByName("strata-nettest"); err == nil {
		t.Fatal("the ephemeral default bridge outlived its last container")
	}
	fw, _ := m.firewall()
	if owners, err := fw.Owners(); err != nil || len(owners) > 0 {
		t.Fatalf("rules of %v left (%v)", owners, err)
	}
}

func assertInside(t *testing.T, st State) {
	t.Helper()
	ns, err := netns.GetFromPath(st.NSPath)
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	eth0, err := h.LinkByName("eth0")
	if err != nil {
		t.Fatal(err)
	}
	addrs, err := h.AddrList(eth0, unix.AF_INET)
	if err != nil || len(addrs) != 1 || !addrs[0].IP.Equal(st.Endpoints[0].IP.AsSlice()) {
		t.Fatalf("eth0 addresses %v (%v), want %s", addrs, err, st.Endpoints[0].IP)
	}
	routes, err := h.RouteList(nil, unix.AF_INET)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range routes {
		if (r.Dst == nil || r.Dst.String() == "0.0.0.0/0") && r.Gw.Equal(st.Endpoints[0].Gateway.AsSlice()) {
			return
		}
	}
	t.Fatalf("no default route via %s in %v", st.Endpoints[0].Gateway, routes)
}

// TestSweepReconcilesAfterACrash leaves a container's networking as a
// crashed process would (its record gone, nothing torn down) and checks
// that Sweep frees its address, rules, namespace and state, and that
// removing the network then takes its bridge and rules.
func TestSweepReconcilesAfterACrash(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: creates namespaces, bridges and nftables rules")
	}
	ctx := context.Background()
	dir := t.TempDir()
	m, err := NewManager(filepath.Join(dir, "networks"), filepath.Join(dir, "run"), "strata-swtest", "swtest")
	if err != nil {
		t.Fatal(err)
	}
	n, err := m.Create(ctx, CreateOptions{Name: "swnet", Subnet: "10.216.0.0/24"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = m.Teardown(ctx, "dead")
		_ = removeBridge(n)
		if fw, err := m.firewall(); err == nil {
			_ = fw.Sweep(ctx, func(string) bool { return false })
		}
	})
	st, err := m.Setup(ctx, Request{ContainerID: "dead", Name: "dead", FilesDir: filepath.Join(dir, "files"),
		Attachments: []Attachment{{Network: "swnet"}}, Ports: []PortMapping{{ContainerPort: 80, Proto: "tcp"}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Sweep(ctx, func(string) bool { return false }); err != nil {
		t.Fatal(err)
	}
	if eps, err := m.Endpoints(n); err != nil || len(eps) > 0 {
		t.Fatalf("addresses left after the sweep: %v (%v)", eps, err)
	}
	if _, err := os.Stat(st.NSPath); !os.IsNotExist(err) {
		t.Fatalf("namespace left after the sweep: %v", err)
	}
	fw, _ := m.firewall()
	owners, _ := fw.Owners()
	if len(owners) != 1 || !strings.HasPrefix(owners[0], "net ") {
		t.Fatalf("after the sweep, rules of %v; want the network's only", owners)
	}
	if err := m.RemoveNetwork(ctx, n); err != nil {
		t.Fatal(err)
	}
	if owners, _ := fw.Owners(); len(owners) > 0 || BridgeIndex(n) != 0 {
		t.Fatalf("rules of %v or bridge %s left after network removal", owners, n.Bridge)
	}
}

// TestDefaultNetworkMovesOffATakenSubnet takes the default network's
// subnet with a bridge of its own (as another store would) before the
// first container, and checks that the bridge is made on a free subnet.
func TestDefaultNetworkMovesOffATakenSubnet(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: creates links, namespaces and nftables rules")
	}
	ctx := context.Background()
	dir := t.TempDir()
	m, err := NewManager(filepath.Join(dir, "networks"), filepath.Join(dir, "run"), "strata-mvtest", "mvtest")
	if err != nil {
		t.Fatal(err)
	}
	m.EphemeralDefaultBridge = true
	n, err := m.Get(ctx, DefaultNetwork)
	if err != nil {
		t.Fatal(err)
	}
	squatter := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: "st-mvsquat"}}
	if err := netlink.LinkAdd(squatter); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = m.Teardown(ctx, "c1")
		_ = netlink.LinkDel(squatter)
		if l, err := netlink.LinkByName("strata-mvtest"); err == nil {
			_ = netlink.LinkDel(l)
		}
	})
	addr := &netlink.Addr{IPNet: ipNet(n.Gateway, n.Subnet.Bits())}
	if err := netlink.AddrAdd(squatter, addr); err != nil {
		t.Fatal(err)
	}
	if err := netlink.LinkSetUp(squatter); err != nil {
		t.Fatal(err)
	}
	st, err := m.Setup(ctx, Request{ContainerID: "c1", Name: "c1", FilesDir: filepath.Join(dir, "files"),
		Attachments: []Attachment{{Network: DefaultNetwork}}})
	if err != nil {
		t.Fatal(err)
	}
	if n.Subnet.Contains(st.Endpoints[0].IP) {
		t.Fatalf("container got %s, in the taken subnet %s", st.Endpoints[0].IP, n.Subnet)
	}
	if moved, _ := m.Get(ctx, DefaultNetwork); moved.Subnet == n.Subnet || !moved.Subnet.Contains(st.Endpoints[0].IP) {
		t.Fatalf("default network still on %s (container %s)", moved.Subnet, st.Endpoints[0].IP)
	}
}
