package cli

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
)

// TestE2EBuildRunNetwork: a RUN step reaches a server of the host's on
// the default bridge's gateway, as docker's builder does by default, and
// cannot with --network none; newNetworkStore checks that no veth,
// namespace or rule of the steps is left.
func TestE2EBuildRunNetwork(t *testing.T) {
	s := newNetworkStore(t)
	ln, err := net.Listen("tcp", "0.0.0.0:0")
	if err != nil {
		t.Fatal(err)
	}
	var hits atomic.Int32
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		fmt.Fprintln(w, "reached-the-host")
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })
	port := ln.Addr().(*net.TCPAddr).Port
	// The gateway is the step's default route: the bridge's address.
	// Two steps: the second joins the build's endpoint the first made.
	fetch := fmt.Sprintf("RUN gw=$(ip route | awk '/^default/ {print $3}') && echo gateway $gw && "+
		"printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 $gw %d > /answer && grep reached-the-host /answer\n", port)
	dockerfile := "FROM busybox\n" + fetch + "RUN echo second step\n" + fetch
	dir := buildContext(t, map[string]string{"Dockerfile": dockerfile})

	out := s.ok(nil, "build", "--no-cache", "-t", "net-default", dir)
	if hits.Load() != 2 || !strings.Contains(out, "gateway ") {
		t.Fatalf("the default build network did not reach the host (%d requests):\n%s", hits.Load(), out)
	}
	if got := s.ok(nil, "run", "--rm", "--network", "none", "net-default", "cat", "/answer"); !strings.Contains(got, "reached-the-host") {
		t.Fatalf("the step's layer lacks its answer: %q", got)
	}

	r := s.run(nil, "build", "--no-cache", "--network", "none", "-t", "net-none", dir)
	if r.code == 0 || hits.Load() != 2 {
		t.Fatalf("--network none reached the host (exit %d, %d requests):\n%s%s", r.code, hits.Load(), r.stdout, r.stderr)
	}
}
