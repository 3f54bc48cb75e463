package cli

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
)

// TestE2EBuildNetworkSurvivesPrune: `network prune` while a build's RUN
// step runs on the default bridge sweeps the store's endpoints, and must
// not take the build's (which has no container record) for a dead one:
// the step, held by the host's server until the prune is done, still
// reaches the host afterwards.
func TestE2EBuildNetworkSurvivesPrune(t *testing.T) {
	s := newNetworkStore(t)
	s.ok(nil, "network", "create", "spare")
	ln, err := net.Listen("tcp", "0.0.0.0:0")
	if err != nil {
		t.Fatal(err)
	}
	var asked, pruned atomic.Bool
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		asked.Store(true)
		if pruned.Load() {
			fmt.Fprintln(w, "go-on")
			return
		}
		fmt.Fprintln(w, "hold")
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })
	port := ln.Addr().(*net.TCPAddr).Port
	step := fmt.Sprintf("RUN gw=$(ip route | awk '/^default/ {print $3}') && i=0 && "+
		"until printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 1 $gw %d | grep go-on; do "+
		"i=$((i+1)); [ $i -lt 100 ] || exit 1; sleep 0.2; done\n", port)
	dir := buildContext(t, map[string]string{"Dockerfile": "FROM busybox\n" + step})
	build := s.command(nil, "build", "--no-cache", "-t", "held", dir)
	var out strings.Builder
	build.Stdout, build.Stderr = &out, &out
	if err := build.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = build.Process.Kill(); _ = build.Wait() })
	waitFor(t, "the RUN step to reach the host", asked.Load)
	if got := s.ok(nil, "network", "prune", "-f"); !strings.Contains(got, "spare") {
		t.Fatalf("network prune did not remove the unused network: %q", got)
	}
	pruned.Store(true)
	if err := build.Wait(); err != nil {
		t.Fatalf("the build lost its network to the prune: %v\n%s", err, out.String())
	}
}
