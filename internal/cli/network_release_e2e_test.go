package cli

import (
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/strata-containers/strata/internal/network/firewall"
)

// serveIndex is a busybox httpd serving body at /.
func serveIndex(body string) string {
	return "mkdir -p /www && echo " + body + " > /www/index.html && exec httpd -f -p 80 -h /www"
}

// freePort is a TCP port of the host nobody listens on now.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

// fetch GETs url from the host and returns the body, trimmed.
func fetch(t *testing.T, url string) string {
	t.Helper()
	// A container's server may not listen yet when `run -d` or `start`
	// returns (its process runs; its bind comes later): retry refusals.
	resp, err := http.Get(url)
	for deadline := time.Now().Add(10 * time.Second); err != nil && errors.Is(err, syscall.ECONNREFUSED) && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
		resp, err = http.Get(url)
	}
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return strings.TrimSpace(string(body))
}

// assertReleased checks that container id holds nothing of the network:
// no namespace, no state, no firewall rule, and that its veths (the host
// ends, listed while it ran) are gone with its namespace.
func (s *store) assertReleased(t *testing.T, id string, veths []string) {
	t.Helper()
	for _, p := range []string{filepath.Join(s.root, "run", "netns", id), filepath.Join(s.root, "run", "networks", id+".json")} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s left after stop", p)
		}
	}
	fw, err := firewall.Open(filepath.Join(t.TempDir(), "fw.lock"), s.networkScope(t))
	if err != nil {
		t.Fatal(err)
	}
	defer fw.Close()
	owners, err := fw.Owners()
	if err != nil || slices.Contains(owners, firewall.ContainerOwner(id)) {
		t.Errorf("firewall rules of the stopped container left: %v (%v)", owners, err)
	}
	// The kernel destroys the namespace, and the veths in it, in the
	// background once it is unmounted.
	waitFor(t, "the veths of the stopped container to go", func() bool {
		return !slices.ContainsFunc(veths, func(name string) bool {
			_, err := netlink.LinkByName(name)
			return err == nil
		})
	})
	if out := s.ok(nil, "port", id); out != "" {
		t.Errorf("port of a stopped container printed %q", out)
	}
}

// TestStopReleasesNetwork: a stopped container's published port is free
// for another container at once, its address returns to the pool (a /30
// has one address for containers), nothing of it is left on the host, and
// its next start gets its network back.
func TestStopReleasesNetwork(t *testing.T) {
	s := newNetworkStore(t)
	s.ok(nil, "network", "create", "--subnet", "10.231.7.0/30", "tiny")
	port := freePort(t)
	url := "http://127.0.0.1:" + port + "/"
	first := strings.TrimSpace(s.ok(nil, "run", "-d", "--network", "tiny", "-p", port+":80", "busybox", "sh", "-c", serveIndex("first")))
	if got := fetch(t, url); got != "first" {
		t.Fatalf("GET %s: %q", url, got)
	}
	veths := vethsOn(t, []string{"st-" + s.networkID(t, "tiny")[:12]})
	if len(veths) != 1 {
		t.Fatalf("veths of the running container: %v", veths)
	}
	s.ok(nil, "stop", "-t", "1", first)
	s.assertReleased(t, first, veths)

	second := strings.TrimSpace(s.ok(nil, "run", "-d", "--network", "tiny", "-p", port+":80", "busybox", "sh", "-c", serveIndex("second")))
	if got := fetch(t, url); got != "second" {
		t.Fatalf("GET %s after the first stopped: %q", url, got)
	}
	if r := s.run(nil, "start", first); r.code == 0 || !strings.Contains(r.stderr, "already allocated") && !strings.Contains(r.stderr, "no available") {
		t.Fatalf("start while another holds its port and address: exit %d, %s", r.code, r.stderr)
	}
	s.ok(nil, "rm", "-f", second)
	s.ok(nil, "start", first)
	if got := fetch(t, url); got != "first" {
		t.Fatalf("GET %s after the first started again: %q", url, got)
	}
	if ip := strings.TrimSpace(s.ok(nil, "inspect", "-f", "{{.NetworkSettings.Networks.tiny.IPAddress}}", first)); ip != "10.231.7.2" {
		t.Fatalf("address after start: %q", ip)
	}
}

// TestRestartPolicyKeepsNetwork: the monitor restarts the workload in the
// same namespace (same address, port still published); the stop that ends
// the policy releases it.
func TestRestartPolicyKeepsNetwork(t *testing.T) {
	s := newNetworkStore(t)
	port := freePort(t)
	id := strings.TrimSpace(s.ok(nil, "run", "-d", "--restart", "always", "-p", port+":80", "busybox", "sh", "-c",
		"ip -4 -o addr show eth0 | grep -o 'inet [0-9.]*'; exit 3"))
	var addrs []string
	waitFor(t, "three runs", func() bool {
		addrs = lines(s.ok(nil, "logs", id))
		return len(addrs) >= 3
	})
	if slices.ContainsFunc(addrs, func(a string) bool { return a != addrs[0] || !strings.HasPrefix(a, "inet ") }) {
		t.Fatalf("addresses of the runs: %q", addrs)
	}
	if out := s.ok(nil, "port", id); !strings.Contains(out, "0.0.0.0:"+port) {
		t.Fatalf("port while restarting: %q", out)
	}
	veths := vethsOn(t, []string{"strata-" + s.networkScope(t)})
	s.ok(nil, "stop", id)
	s.assertReleased(t, id, veths)
}

// networkID is the full ID of network name.
func (s *store) networkID(t *testing.T, name string) string {
	t.Helper()
	return strings.TrimSpace(s.ok(nil, "network", "inspect", "-f", "{{.Id}}", name))
}

// TestKilledMonitorsPortIsReclaimed: a container whose monitor was killed
// (kill -9) could not release its network; the next container that
// publishes the same port reclaims it instead of failing.
func TestKilledMonitorsPortIsReclaimed(t *testing.T) {
	s := newNetworkStore(t)
	port := freePort(t)
	victim := strings.TrimSpace(s.ok(nil, "run", "-d", "-p", port+":80", "busybox", "sleep", "600"))
	s.killMonitor(t, victim)
	s.ok(nil, "run", "-d", "-p", port+":80", "busybox", "sh", "-c", serveIndex("reclaimed"))
	if got := fetch(t, "http://127.0.0.1:"+port+"/"); got != "reclaimed" {
		t.Fatalf("GET the reclaimed port: %q", got)
	}
	if out := s.ok(nil, "port", victim); out != "" {
		t.Fatalf("port of the container whose monitor died: %q", out)
	}
}
