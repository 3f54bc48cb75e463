package firewall

import (
	"context"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func open(t testing.TB) *Firewall {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: programs nftables")
	}
	f, err := Open(filepath.Join(t.TempDir(), "firewall.lock"), "fwtest")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func nftList(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("nft"); err != nil {
		return ""
	}
	out, _ := exec.Command("nft", "list", "table", "inet", TableName).CombinedOutput()
	return string(out)
}

// TestRulesAreIdempotentAndRemovedByOwner adds a network's rules and a
// container's ports twice, checks they are there once, then removes them
// and checks the table is gone (with netlink, and with nft when present).
func TestRulesAreIdempotentAndRemovedByOwner(t *testing.T) {
	f := open(t)
	ctx := context.Background()
	n := Network{ID: "fwtest-net", Bridge: "st-fwtest", Subnet: netip.MustParsePrefix("10.213.0.0/24")}
	t.Cleanup(func() {
		_ = f.Remove(ctx, NetworkOwner(n.ID))
		_ = f.Remove(ctx, ContainerOwner("fwtest-ctr"))
	})
	ports := []Port{{Proto: "tcp", HostPort: 18080, ContainerPort: 80},
		{Proto: "udp", HostIP: netip.MustParseAddr("127.0.0.1"), HostPort: 18053, ContainerPort: 53}}
	for range 2 {
		if err := f.SetNetwork(ctx, n); err != nil {
			t.Fatal(err)
		}
		if err := f.SetPorts(ctx, "fwtest-ctr", netip.MustParseAddr("10.213.0.2"), ports); err != nil {
			t.Fatal(err)
		}
	}
	owners, err := f.Owners()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(owners, NetworkOwner(n.ID)) || !slices.Contains(owners, ContainerOwner("fwtest-ctr")) {
		t.Fatalf("owners %v lack the test's", owners)
	}
	if out := nftList(t); out != "" {
		if c := strings.Count(out, "dnat ip to 10.213.0.2:80"); c != 2 { // prerouting + output
			t.Fatalf("nft shows the port rule %d times, want 2:\n%s", c, out)
		}
		if !strings.Contains(out, `oifname "st-fwtest" drop`) {
			t.Fatalf("nft lacks the isolation rule:\n%s", out)
		}
	}
	if err := f.Sweep(ctx, func(o string) bool { return o != ContainerOwner("fwtest-ctr") }); err != nil {
		t.Fatal(err)
	}
	if err := f.Remove(ctx, NetworkOwner(n.ID)); err != nil {
		t.Fatal(err)
	}
	if owners, err := f.Owners(); err != nil || len(owners) > 0 {
		t.Fatalf("rules of %v (%v) left after their removal", owners, err)
	}
	if out := nftList(t); strings.Contains(out, "fwtest") {
		t.Fatalf("nft still shows the test's rules:\n%s", out)
	}
}
