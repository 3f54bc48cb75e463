package cli

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/strata-containers/strata/internal/network/firewall"
)

// httpGet is a request busybox nc sends. (busybox wget works too, without
// -T: see wgetIndex.)
const httpGet = `printf 'GET / HTTP/1.0\r\n\r\n' | nc -w 3 %s 80`

// newNetworkStore is a container store whose networking is torn down and
// checked when the test ends: no bridge, veth, namespace or firewall rule
// of the store may be left. Tests leave their containers and networks to
// it, so that the veths of their containers are known before removal.
func newNetworkStore(t *testing.T) *store {
	s := newContainerStore(t)
	t.Cleanup(func() {
		scope := s.networkScope(t)
		bridges := []string{"strata-" + scope}
		nets := strings.Fields(s.run(nil, "network", "ls", "-q", "--no-trunc").stdout)
		for _, n := range nets {
			bridges = append(bridges, "st-"+n[:12])
		}
		veths := vethsOn(t, bridges)
		t.Logf("checking that %d bridges and %d veths go", len(bridges), len(veths))
		for _, id := range strings.Fields(s.run(nil, "ps", "-aq", "--no-trunc").stdout) {
			s.run(nil, "rm", "-f", id)
		}
		for _, n := range nets {
			s.run(nil, "network", "rm", n)
		}
		s.assertNetworkClean(t, scope, append(bridges, veths...))
	})
	return s
}

// vethsOn lists the links whose master is one of bridges.
func vethsOn(t *testing.T, bridges []string) []string {
	links, err := netlink.LinkList()
	if err != nil {
		t.Fatal(err)
	}
	idx := map[int]bool{}
	for _, l := range links {
		if slices.Contains(bridges, l.Attrs().Name) {
			idx[l.Attrs().Index] = true
		}
	}
	var out []string
	for _, l := range links {
		if idx[l.Attrs().MasterIndex] {
			out = append(out, l.Attrs().Name)
		}
	}
	return out
}

// assertNetworkClean checks with netlink and nftables that the store left
// nothing on the host (links, rules, namespaces), and removes what it
// finds so that a failure does not leak. A veth goes with its container's
// namespace, which the kernel destroys in the background: the check waits
// for that (up to 10 s) before it calls a veth left behind.
func (s *store) assertNetworkClean(t *testing.T, scope string, links []string) {
	t.Helper()
	var left []netlink.Link
	for range 100 {
		left = left[:0]
		for _, name := range links {
			if l, err := netlink.LinkByName(name); err == nil {
				left = append(left, l)
			}
		}
		if len(left) == 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, l := range left {
		t.Errorf("link %s (%s) left behind", l.Attrs().Name, l.Type())
		_ = netlink.LinkDel(l)
	}
	fw, err := firewall.Open(filepath.Join(t.TempDir(), "fw.lock"), scope)
	if err != nil {
		t.Fatal(err)
	}
	defer fw.Close()
	if owners, err := fw.Owners(); err != nil || len(owners) > 0 {
		t.Errorf("firewall rules of %v left behind (%v)", owners, err)
		_ = fw.Sweep(t.Context(), func(string) bool { return false })
	}
	if ents, _ := os.ReadDir(filepath.Join(s.root, "run", "netns")); len(ents) > 0 {
		t.Errorf("network namespaces left behind: %v", ents)
	}
}

// networkScope is the store's firewall scope: the default bridge of a
// store that is not /var/lib/strata is strata-<scope>.
func (s *store) networkScope(t *testing.T) string {
	var bridge string
	for _, l := range strings.Split(s.ok(nil, "network", "inspect", "-f", `{{index .Options "com.docker.network.bridge.name"}}`, "bridge"), "\n") {
		if l != "" {
			bridge = l
		}
	}
	return strings.TrimPrefix(bridge, "strata-")
}

// TestUserNetworksResolveAndIsolate: two containers on one user network,
// one serving with busybox httpd, the other fetching by name and by alias;
// a container on another network can neither resolve nor reach it.
func TestUserNetworksResolveAndIsolate(t *testing.T) {
	s := newNetworkStore(t)
	s.ok(nil, "network", "create", "front")
	s.ok(nil, "network", "create", "--subnet", "10.231.0.0/24", "back")
	if got := s.ok(nil, "network", "ls", "-f", "type=custom", "--format", "{{.Name}} {{.Driver}}"); got != "back bridge\nfront bridge\n" {
		t.Fatalf("network ls -f type=custom: %q", got)
	}
	s.ok(nil, "run", "-d", "--name", "web", "--network", "front", "--network-alias", "www", "busybox",
		"sh", "-c", "mkdir /www && echo served-by-web > /www/index.html && exec httpd -f -p 80 -h /www")
	for _, name := range []string{"web", "www"} {
		out := s.ok(nil, "run", "--rm", "--network", "front", "busybox", "sh", "-c", strings.ReplaceAll(httpGet, "%s", name))
		if !strings.Contains(out, "served-by-web") {
			t.Fatalf("fetching http://%s/ on the same network printed %q", name, out)
		}
	}
	ip := strings.TrimSpace(s.ok(nil, "inspect", "-f", "{{.NetworkSettings.IPAddress}}", "web"))
	r := s.run(nil, "run", "--rm", "--network", "back", "busybox", "sh", "-c",
		"nslookup web; "+strings.ReplaceAll(httpGet, "%s", ip))
	if strings.Contains(r.stdout, "served-by-web") || !strings.Contains(r.stdout+r.stderr, "NXDOMAIN") {
		t.Fatalf("a container on another network resolved or reached web (%s):\n%s%s", ip, r.stdout, r.stderr)
	}
	// Nor can it ask front's DNS server directly.
	gw := strings.TrimSpace(s.ok(nil, "network", "inspect", "-f", "{{range .IPAM.Config}}{{.Gateway}}{{end}}", "front"))
	r = s.run(nil, "run", "--rm", "--network", "back", "busybox", "nslookup", "web", gw)
	if strings.Contains(r.stdout, ip) {
		t.Fatalf("a container on another network resolved web through front's server %s:\n%s", gw, r.stdout)
	}
	if out := s.ok(nil, "run", "--rm", "--network", "back", "busybox", "ip", "-4", "-o", "addr", "show", "eth0"); !strings.Contains(out, "10.231.0.") {
		t.Fatalf("address on --subnet 10.231.0.0/24: %s", out)
	}
	if r := s.run(nil, "network", "rm", "front"); r.code == 0 || !strings.Contains(r.stderr, "active endpoints") {
		t.Fatalf("network rm of a network in use: exit %d, %s", r.code, r.stderr)
	}
}

// TestPublishedPortFromHost fetches a published port from the host with
// net/http, on 127.0.0.1 and on a random port given by `port`.
func TestPublishedPortFromHost(t *testing.T) {
	s := newNetworkStore(t)
	id := strings.TrimSpace(s.ok(nil, "run", "-d", "-p", "127.0.0.1:18089:80", "-p", "80", "busybox",
		"sh", "-c", "mkdir /www && echo published > /www/index.html && exec httpd -f -p 80 -h /www"))
	lines := strings.Split(strings.TrimSpace(s.ok(nil, "port", id)), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "80/tcp -> 127.0.0.1:18089") {
		t.Fatalf("port printed %q", lines)
	}
	random := strings.TrimSpace(lines[1][strings.LastIndex(lines[1], ":")+1:])
	if ps := s.ok(nil, "ps", "--format", "{{.Ports}}"); !strings.Contains(ps, "127.0.0.1:18089->80/tcp, 0.0.0.0:"+random+"->80/tcp") {
		t.Fatalf("ps PORTS: %q", ps)
	}
	for _, url := range []string{"http://127.0.0.1:18089/", "http://127.0.0.1:" + random + "/"} {
		resp, err := http.Get(url)
		if err != nil {
			t.Fatalf("GET %s: %v", url, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.TrimSpace(string(body)) != "published" {
			t.Fatalf("GET %s: %q", url, body)
		}
	}
}

// TestNetworkNoneHasOnlyLo: --network none is a namespace with lo alone.
func TestNetworkNoneHasOnlyLo(t *testing.T) {
	s := newNetworkStore(t)
	out := s.ok(nil, "run", "--rm", "--network", "none", "busybox", "ls", "/sys/class/net")
	if strings.Join(strings.Fields(out), ",") != "lo" {
		t.Fatalf("interfaces with --network none: %q", out)
	}
	out = s.ok(nil, "run", "--rm", "--add-host", "db:10.1.2.3", "--dns", "9.9.9.9", "busybox", "cat", "/etc/hosts", "/etc/resolv.conf")
	if !strings.Contains(out, "10.1.2.3\tdb") || !strings.Contains(out, "nameserver 9.9.9.9") {
		t.Fatalf("--add-host and --dns not in the container's files:\n%s", out)
	}
}

// TestNetworkConnectAndDisconnect connects a running container to a
// second network, where it reaches a server by name, then disconnects it.
func TestNetworkConnectAndDisconnect(t *testing.T) {
	s := newNetworkStore(t)
	s.ok(nil, "network", "create", "left")
	s.ok(nil, "network", "create", "right")
	s.ok(nil, "run", "-d", "--name", "srv", "--network", "right", "busybox",
		"sh", "-c", "mkdir /www && echo on-the-right > /www/index.html && exec httpd -f -p 80 -h /www")
	s.ok(nil, "run", "-d", "--name", "cli", "--network", "left", "busybox", "sleep", "600")
	s.ok(nil, "network", "connect", "--alias", "client", "right", "cli")
	nets := s.ok(nil, "inspect", "-f", "{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}", "cli")
	if strings.TrimSpace(nets) != "left right" {
		t.Fatalf("networks of cli after connect: %q", nets)
	}
	// A container joining cli's namespace sees what cli sees.
	out := s.ok(nil, "run", "--rm", "--network", "container:cli", "busybox", "sh", "-c", strings.ReplaceAll(httpGet, "%s", "srv"))
	if !strings.Contains(out, "on-the-right") {
		t.Fatalf("fetching srv through cli's namespace after connect: %q", out)
	}
	s.ok(nil, "network", "disconnect", "right", "cli")
	out = s.ok(nil, "run", "--rm", "--network", "container:cli", "busybox", "ls", "/sys/class/net")
	if strings.Join(strings.Fields(out), ",") != "eth0,lo" {
		t.Fatalf("interfaces of cli after disconnect: %q", out)
	}
}

// TestConcurrentRunsGetDistinctAddresses starts 50 containers on one
// network at once (50 strata processes allocating together) and checks
// that no address was handed out twice.
func TestConcurrentRunsGetDistinctAddresses(t *testing.T) {
	if testing.Short() {
		t.Skip("starts 50 containers")
	}
	s := newNetworkStore(t)
	s.ok(nil, "network", "create", "--subnet", "10.232.0.0/24", "many")
	const n = 50
	ids := make([]string, n)
	errs := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := s.run(nil, "run", "-d", "--network", "many", "busybox", "sleep", "600")
			ids[i], errs[i] = strings.TrimSpace(r.stdout), r.stderr
			if r.code != 0 {
				errs[i] = fmt.Sprintf("exit %d: %s", r.code, r.stderr)
			} else {
				errs[i] = ""
			}
		}()
	}
	wg.Wait()
	seen := map[string]string{}
	for i, id := range ids {
		if errs[i] != "" {
			t.Fatalf("run %d: %s", i, errs[i])
		}
		ip := strings.TrimSpace(s.ok(nil, "inspect", "-f", "{{.NetworkSettings.IPAddress}}", id))
		if other, dup := seen[ip]; dup || !strings.HasPrefix(ip, "10.232.0.") {
			t.Fatalf("address %s of %s (also %s)", ip, id, other)
		}
		seen[ip] = id
	}
}

// TestIPv6UserNetwork: containers on an --ipv6 network get addresses of
// its subnet, the embedded DNS answers AAAA, and they talk over IPv6.
func TestIPv6UserNetwork(t *testing.T) {
	s := newNetworkStore(t)
	s.ok(nil, "network", "create", "--ipv6", "--subnet", "fd42:5:6:7::/64", "six")
	s.ok(nil, "run", "-d", "--name", "srv6", "--network", "six", "busybox",
		"sh", "-c", "mkdir /www && echo over-ipv6 > /www/index.html && exec httpd -f -p 80 -h /www")
	ip6 := strings.TrimSpace(s.ok(nil, "inspect", "-f", "{{range .NetworkSettings.Networks}}{{.GlobalIPv6Address}}{{end}}", "srv6"))
	if !strings.HasPrefix(ip6, "fd42:5:6:7::") {
		t.Fatalf("IPv6 address of srv6: %q", ip6)
	}
	out := s.ok(nil, "run", "--rm", "--network", "six", "busybox", "sh", "-c",
		"nslookup -type=AAAA srv6; "+strings.ReplaceAll(httpGet, "%s", ip6))
	if !strings.Contains(out, "Address: "+ip6) || !strings.Contains(out, "over-ipv6") {
		t.Fatalf("AAAA lookup and fetch over IPv6:\n%s", out)
	}
}
