package network

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
)

// BenchmarkSetupTeardown is what bridge networking adds to a container's
// start and removal with the bridge present (strata0's steady state):
// namespace, veth, address, route, files, state; then the namespace's
// removal and the address's release. The kernel's destruction of the
// namespace and its veth happens afterwards, off this path.
func BenchmarkSetupTeardown(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("needs root: creates namespaces, bridges and nftables rules")
	}
	ctx := context.Background()
	dir := b.TempDir()
	m, err := NewManager(filepath.Join(dir, "networks"), filepath.Join(dir, "run"), "strata-nbench", "nbench")
	if err != nil {
		b.Fatal(err)
	}
	m.EphemeralDefaultBridge = true
	req := func(id string) Request {
		return Request{ContainerID: id, Name: id, FilesDir: filepath.Join(dir, id), Attachments: []Attachment{{Network: DefaultNetwork}}}
	}
	// A running container keeps the bridge, as in the steady state.
	if _, err := m.Setup(ctx, req("holder")); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = m.Teardown(ctx, "holder")
		if l, err := netlink.LinkByName("strata-nbench"); err == nil {
			_ = netlink.LinkDel(l)
		}
	})
	i := 0
	for b.Loop() {
		id := fmt.Sprintf("c%d", i)
		i++
		if _, err := m.Setup(ctx, req(id)); err != nil {
			b.Fatal(err)
		}
		if err := m.Teardown(ctx, id); err != nil {
			b.Fatal(err)
		}
		// A container's life between its start and its removal: the
		// kernel destroys the previous namespace meanwhile, as it does
		// between runs (back to back, that work holds the rtnl lock the
		// next veth needs, and is measured instead).
		b.StopTimer()
		time.Sleep(50 * time.Millisecond)
		b.StartTimer()
	}
}
