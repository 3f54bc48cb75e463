package ipam

import (
	"context"
	"fmt"
	"net/netip"
	"path/filepath"
	"sync"
	"testing"

	"github.com/strata-containers/strata/internal/errdefs"
)

func testPool() Pool {
	return Pool{Subnet: netip.MustParsePrefix("10.99.0.0/24"), Gateway: netip.MustParseAddr("10.99.0.1")}
}

// TestConcurrentAllocationsAreUnique opens one allocator per goroutine, each
// with its own lock file descriptor, as fifty concurrent `run` processes do.
func TestConcurrentAllocationsAreUnique(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ipam.json")
	var wg sync.WaitGroup
	got := make([]netip.Addr, 50)
	errs := make([]error, 50)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a, err := Open(path, testPool())
			if err != nil {
				errs[i] = err
				return
			}
			defer a.Close()
			got[i], errs[i] = a.Allocate(context.Background(), netip.Addr{}, Endpoint{Container: fmt.Sprint(i)})
		}()
	}
	wg.Wait()
	seen := map[netip.Addr]bool{}
	for i, ip := range got {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if seen[ip] || ip == testPool().Gateway || ip == netip.MustParseAddr("10.99.0.0") {
			t.Fatalf("address %s handed out wrongly (twice or reserved)", ip)
		}
		seen[ip] = true
	}
	a, _ := Open(path, testPool())
	defer a.Close()
	eps, err := a.Endpoints()
	if err != nil || len(eps) != 50 {
		t.Fatalf("file holds %d endpoints (%v), want 50", len(eps), err)
	}
}

func TestRequestedReleasedAndExhausted(t *testing.T) {
	ctx := context.Background()
	pool := Pool{Subnet: netip.MustParsePrefix("10.99.0.0/29"), Gateway: netip.MustParseAddr("10.99.0.1")}
	a, err := Open(filepath.Join(t.TempDir(), "ipam.json"), pool)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	want := netip.MustParseAddr("10.99.0.5")
	if ip, err := a.Allocate(ctx, want, Endpoint{Container: "a"}); err != nil || ip != want {
		t.Fatalf("--ip: got %s, %v", ip, err)
	}
	if _, err := a.Allocate(ctx, want, Endpoint{Container: "b"}); !errdefs.IsConflict(err) {
		t.Fatalf("second --ip %s: %v, want a conflict", want, err)
	}
	if _, err := a.Allocate(ctx, netip.MustParseAddr("10.99.0.1"), Endpoint{Container: "b"}); !errdefs.IsInvalid(err) {
		t.Fatalf("gateway as --ip: %v, want invalid", err)
	}
	// .2 .3 .4 .6 remain (.0, .1 and .7 are reserved, .5 is taken).
	for i := range 4 {
		if _, err := a.Allocate(ctx, netip.Addr{}, Endpoint{Container: fmt.Sprint("x", i)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.Allocate(ctx, netip.Addr{}, Endpoint{Container: "y"}); !errdefs.IsUnavailable(err) {
		t.Fatalf("allocation from a full pool: %v", err)
	}
	if err := a.Release(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if ip, err := a.Allocate(ctx, netip.Addr{}, Endpoint{Container: "y"}); err != nil || ip != want {
		t.Fatalf("after release got %s, %v; want %s", ip, err, want)
	}
}

func TestRange(t *testing.T) {
	pool := Pool{Subnet: netip.MustParsePrefix("10.99.0.0/16"), Gateway: netip.MustParseAddr("10.99.0.1"),
		Range: netip.MustParsePrefix("10.99.5.0/24")}
	a, err := Open(filepath.Join(t.TempDir(), "ipam.json"), pool)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ip, err := a.Allocate(context.Background(), netip.Addr{}, Endpoint{Container: "a"})
	if err != nil || !pool.Range.Contains(ip) {
		t.Fatalf("got %s, %v; want an address of %s", ip, err, pool.Range)
	}
}

// TestLastAddressReleasedIsReused: the address handed out last is free
// again once released; in a /30 it is the only one.
func TestLastAddressReleasedIsReused(t *testing.T) {
	ctx := context.Background()
	pool := Pool{Subnet: netip.MustParsePrefix("10.99.0.0/30"), Gateway: netip.MustParseAddr("10.99.0.1")}
	a, err := Open(filepath.Join(t.TempDir(), "ipam.json"), pool)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	want := netip.MustParseAddr("10.99.0.2")
	for _, c := range []string{"a", "b"} {
		if ip, err := a.Allocate(ctx, netip.Addr{}, Endpoint{Container: c}); err != nil || ip != want {
			t.Fatalf("allocation for %s: %s, %v; want %s", c, ip, err, want)
		}
		if err := a.Release(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
}
