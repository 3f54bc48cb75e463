package firewall

import (
	"context"
	"net/netip"
	"testing"
)

// BenchmarkPublishAndRemove is what `run -p 8080:80` adds to a container's
// start and removal: one transaction installing its DNAT rules, one
// removing them.
func BenchmarkPublishAndRemove(b *testing.B) {
	f := open(b)
	ctx := context.Background()
	n := Network{ID: "fwbench-net", Bridge: "st-fwbench", Subnet: netip.MustParsePrefix("10.214.0.0/24")}
	if err := f.SetNetwork(ctx, n); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = f.Remove(ctx, NetworkOwner(n.ID)) })
	ports := []Port{{Proto: "tcp", HostPort: 18081, ContainerPort: 80}}
	for b.Loop() {
		if err := f.SetPorts(ctx, "fwbench-ctr", netip.MustParseAddr("10.214.0.2"), ports); err != nil {
			b.Fatal(err)
		}
		if err := f.Remove(ctx, ContainerOwner("fwbench-ctr")); err != nil {
			b.Fatal(err)
		}
	}
}
