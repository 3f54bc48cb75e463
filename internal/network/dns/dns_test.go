package dns

import (
	"context"
	"net"
	"net/netip"
	"testing"
)

// TestAnswersNamesOfTheNetwork queries the server with the standard
// library's resolver over real UDP on loopback.
func TestAnswersNamesOfTheNetwork(t *testing.T) {
	web := netip.MustParseAddr("10.1.2.3")
	s, err := Listen("127.0.0.1:0", func(name string, _ netip.Addr) []netip.Addr {
		if name == "web" {
			return []netip.Addr{web}
		}
		return nil
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	r := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "udp", s.Addr().String())
	}}
	addrs, err := r.LookupNetIP(ctx, "ip4", "web")
	if err != nil || len(addrs) != 1 || addrs[0] != web {
		t.Fatalf("web: %v, %v; want %s", addrs, err, web)
	}
	if addrs, err := r.LookupNetIP(ctx, "ip4", "nosuchname.invalid"); err == nil {
		t.Fatalf("an unknown name with no upstream resolved to %v", addrs)
	}
	overTCP := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "tcp", s.Addr().String())
	}}
	addrs, err = overTCP.LookupNetIP(ctx, "ip4", "web")
	if err != nil || len(addrs) != 1 || addrs[0] != web {
		t.Fatalf("web over TCP: %v, %v; want %s", addrs, err, web)
	}
}
