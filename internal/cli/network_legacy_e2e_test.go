package cli

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
)

// busybox wget works in containers on every network: Debian's
// busybox-static (before 1.36.1-5) crashes on wget's -T, which it was
// built without (the option's destination is NULL), on the host as well;
// so these tests never pass -T and bound the fetch with busybox timeout.
const wgetIndex = "timeout 10 wget -q -O- http://%s/"

// wgetRetry is wgetIndex retried until the server listens (at most 100
// times: a wait, bounded so that a broken network fails the test).
const wgetRetry = "i=0; until out=$(" + wgetIndex + "); do i=$((i+1)); [ $i -lt 100 ] || exit 1; sleep 0.1; done; echo \"$out\""

// hostServer serves body over HTTP on every address of the host, on a
// random port, until the test ends.
func hostServer(t *testing.T, body string) string {
	t.Helper()
	l, err := net.Listen("tcp", "0.0.0.0:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, body) })}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { srv.Close() })
	return fmt.Sprint(l.Addr().(*net.TCPAddr).Port)
}

// TestBusyboxWget fetches with busybox wget from a container on the
// default bridge (the host, through the gateway's address, named with
// --add-host host-gateway) and from one on a user network (another
// container, by name through the embedded DNS).
func TestBusyboxWget(t *testing.T) {
	s := newNetworkStore(t)
	port := hostServer(t, "from the host")
	out := s.ok(nil, "run", "--rm", "--add-host", "host.docker.internal:host-gateway", "busybox", "sh", "-c",
		"grep host.docker.internal /etc/hosts; "+fmt.Sprintf(wgetIndex, "host.docker.internal:"+port))
	gw := strings.TrimSpace(s.ok(nil, "network", "inspect", "-f", "{{range .IPAM.Config}}{{.Gateway}}{{end}}", "bridge"))
	if want := gw + "\thost.docker.internal\nfrom the host\n"; out != want {
		t.Fatalf("wget of the host through host-gateway printed %q, want %q", out, want)
	}
	// On the host's network too, added to the host's /etc/hosts.
	if out := s.ok(nil, "run", "--rm", "--network", "host", "--add-host", "gw:host-gateway", "busybox", "grep", "gw$", "/etc/hosts"); out != gw+"\tgw\n" {
		t.Fatalf("host-gateway with --network host: %q", out)
	}
	s.ok(nil, "network", "create", "wgetnet")
	s.ok(nil, "run", "-d", "--name", "wgetsrv", "--network", "wgetnet", "busybox", "sh", "-c", serveIndex("by-name"))
	out = s.ok(nil, "run", "--rm", "--network", "wgetnet", "busybox", "sh", "-c",
		fmt.Sprintf(wgetRetry, "wgetsrv"))
	if strings.TrimSpace(out) != "by-name" {
		t.Fatalf("wget by name on a user network printed %q", out)
	}
}

// TestExposeAndPublishAll: --expose adds to ExposedPorts (a range too),
// and -P publishes them on random host ports.
func TestExposeAndPublishAll(t *testing.T) {
	s := newNetworkStore(t)
	id := strings.TrimSpace(s.ok(nil, "run", "-d", "--expose", "80", "--expose", "7000-7001/udp", "-P", "busybox",
		"sh", "-c", serveIndex("exposed")))
	if got := s.ok(nil, "inspect", "-f", "{{json .Config.ExposedPorts}}", id); got != `{"7000/udp":{},"7001/udp":{},"80/tcp":{}}`+"\n" {
		t.Fatalf("ExposedPorts: %s", got)
	}
	ports := lines(s.ok(nil, "port", id))
	if len(ports) != 3 || !strings.HasPrefix(ports[2], "80/tcp -> 0.0.0.0:") {
		t.Fatalf("port: %q", ports)
	}
	hostPort := ports[2][strings.LastIndex(ports[2], ":")+1:]
	if got := fetch(t, "http://127.0.0.1:"+hostPort+"/"); got != "exposed" {
		t.Fatalf("GET the -P port of --expose 80: %q", got)
	}
	if r := s.run(nil, "create", "--expose", "80-x", "busybox"); r.code != 125 || !strings.Contains(r.stderr, "invalid range format for --expose") {
		t.Fatalf("create --expose 80-x: exit %d, %s", r.code, r.stderr)
	}
}

// TestLinkOnDefaultBridge: --link name:alias gives an /etc/hosts line for
// the linked container's address under the alias, its ID and its name;
// the linked container must exist and run; host networking cannot link.
func TestLinkOnDefaultBridge(t *testing.T) {
	s := newNetworkStore(t)
	web := strings.TrimSpace(s.ok(nil, "run", "-d", "--name", "linkweb", "busybox", "sh", "-c", serveIndex("linked")))
	ip := strings.TrimSpace(s.ok(nil, "inspect", "-f", "{{.NetworkSettings.IPAddress}}", web))
	out := s.ok(nil, "run", "--rm", "--link", "linkweb:db", "busybox", "sh", "-c",
		"grep -w db /etc/hosts; "+fmt.Sprintf(wgetRetry, "db"))
	if want := ip + "\tdb " + web[:12] + " linkweb\nlinked\n"; out != want {
		t.Fatalf("linked container printed %q, want %q", out, want)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--link", "nosuch"}, "could not get container for nosuch"},
		{[]string{"--network", "host", "--link", "linkweb"}, "conflicting options: host type networking can't be used with links"},
	} {
		r := s.run(nil, append(append([]string{"run", "--rm"}, c.args...), "busybox", "true")...)
		if r.code == 0 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("run %v: exit %d, %s; want %q", c.args, r.code, r.stderr, c.want)
		}
	}
	s.ok(nil, "stop", "-t", "1", web)
	if r := s.run(nil, "run", "--rm", "--name", "linker", "--link", "linkweb:db", "busybox", "true"); r.code == 0 ||
		!strings.Contains(r.stderr, "Cannot link to a non running container: /linkweb AS /linker/db") {
		t.Fatalf("link to a stopped container: exit %d, %s", r.code, r.stderr)
	}
}
