package network

import (
	"bufio"
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"

	"github.com/strata-containers/strata/internal/errdefs"
)

// Files are a container's /etc/hosts, /etc/resolv.conf and /etc/hostname,
// written on the host and bind-mounted into the container.
type Files struct {
	Hosts, ResolvConf, Hostname string // host paths
}

// FilesIn names the three files in dir.
func FilesIn(dir string) Files {
	return Files{Hosts: filepath.Join(dir, "hosts"), ResolvConf: filepath.Join(dir, "resolv.conf"),
		Hostname: filepath.Join(dir, "hostname")}
}

// HostsOptions is what goes into /etc/hosts beside localhost.
type HostsOptions struct {
	Hostname   string
	Addresses  []netip.Addr // the container's own, hostname first
	ExtraHosts []string     // --add-host name:ip
	Links      []HostEntry  // --link
	Aliases    []string     // more names of the container's address
}

// ResolvOptions is what goes into /etc/resolv.conf.
type ResolvOptions struct {
	Nameservers []string // --dns, or the embedded server
	Search      []string
	Options     []string
}

// Write writes the three files.
func (f Files) Write(h HostsOptions, r ResolvOptions) error {
	if err := os.MkdirAll(filepath.Dir(f.Hosts), 0o700); err != nil {
		return err
	}
	hosts, err := hostsFile(h)
	if err != nil {
		return err
	}
	resolv := resolvFile(r, readHostResolv())
	for path, data := range map[string][]byte{f.Hosts: hosts, f.ResolvConf: resolv, f.Hostname: []byte(h.Hostname + "\n")} {
		// Written in place, not renamed: a running container's bind mount
		// holds the inode.
		if err := os.WriteFile(path, data, 0o644); err != nil {
			return fmt.Errorf("writing %s: %w", path, err)
		}
	}
	return nil
}

func hostsFile(h HostsOptions) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n")
	b.WriteString("fe00::\tip6-localnet\nff00::\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n")
	if err := writeExtraHosts(&b, h.ExtraHosts); err != nil {
		return nil, err
	}
	for _, l := range h.Links {
		fmt.Fprintf(&b, "%s\t%s\n", l.IP, strings.Join(l.Names, " "))
	}
	if h.Hostname == "" {
		return b.Bytes(), nil
	}
	names := strings.Join(append([]string{h.Hostname}, h.Aliases...), " ")
	if len(h.Addresses) == 0 {
		fmt.Fprintf(&b, "127.0.1.1\t%s\n", names)
	}
	for _, a := range h.Addresses {
		fmt.Fprintf(&b, "%s\t%s\n", a, names)
	}
	return b.Bytes(), nil
}

// writeExtraHosts writes the lines of --add-host name:ip (or name=ip).
func writeExtraHosts(b *bytes.Buffer, extra []string) error {
	for _, e := range extra {
		name, ip, ok := strings.Cut(e, ":")
		if e2 := strings.SplitN(e, "=", 2); !ok && len(e2) == 2 {
			name, ip, ok = e2[0], e2[1], true
		}
		if !ok || name == "" {
			return errdefs.Invalid("invalid argument %q for \"--add-host\" flag: bad format for add-host: %q", e, e)
		}
		if _, err := netip.ParseAddr(strings.Trim(ip, "[]")); err != nil {
			return errdefs.Invalid("invalid argument %q for \"--add-host\" flag: invalid IP address in add-host: %q", e, ip)
		}
		fmt.Fprintf(b, "%s\t%s\n", strings.Trim(ip, "[]"), name)
	}
	return nil
}

// hostResolv is the host's resolv.conf, parsed.
type hostResolv struct {
	nameservers, search, options []string
}

func readHostResolv() hostResolv {
	var r hostResolv
	data, err := os.ReadFile("/etc/resolv.conf")
	if err != nil {
		return r
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 {
			continue
		}
		switch f[0] {
		case "nameserver":
			r.nameservers = append(r.nameservers, f[1])
		case "search", "domain":
			r.search = f[1:]
		case "options":
			r.options = append(r.options, f[1:]...)
		}
	}
	return r
}

// HostNameservers are the host's resolvers, loopback ones included (the
// embedded DNS server runs in the host's namespace and can reach them).
func HostNameservers() []string { return readHostResolv().nameservers }

// resolvFile is docker's: the given values, else the host's with loopback
// resolvers (unreachable from the container) left out, else Google's.
func resolvFile(r ResolvOptions, host hostResolv) []byte {
	ns := r.Nameservers
	if len(ns) == 0 {
		for _, n := range host.nameservers {
			if a, err := netip.ParseAddr(n); err == nil && !a.IsLoopback() {
				ns = append(ns, n)
			}
		}
		if len(ns) == 0 {
			ns = []string{"8.8.8.8", "8.8.4.4"}
		}
	}
	search, opts := r.Search, r.Options
	if len(search) == 0 {
		search = host.search
	}
	if len(opts) == 0 {
		opts = host.options
	}
	var b bytes.Buffer
	for _, n := range ns {
		fmt.Fprintf(&b, "nameserver %s\n", n)
	}
	if len(search) > 0 {
		fmt.Fprintf(&b, "search %s\n", strings.Join(search, " "))
	}
	if len(opts) > 0 {
		fmt.Fprintf(&b, "options %s\n", strings.Join(opts, " "))
	}
	return b.Bytes()
}

// WriteHostFiles gives a container on the host's network copies of the
// host's /etc/hosts and /etc/resolv.conf, and its hostname.
func WriteHostFiles(req Request) error {
	f := FilesIn(req.FilesDir)
	if err := os.MkdirAll(req.FilesDir, 0o700); err != nil {
		return err
	}
	for dst, src := range map[string]string{f.Hosts: "/etc/hosts", f.ResolvConf: "/etc/resolv.conf"} {
		data, err := os.ReadFile(src)
		if err != nil && !os.IsNotExist(err) {
			return err
		}
		if dst == f.Hosts && len(req.ExtraHosts) > 0 { // docker adds them to the host's
			b := bytes.NewBuffer(data)
			if len(data) > 0 && data[len(data)-1] != '\n' {
				b.WriteByte('\n')
			}
			if err := writeExtraHosts(b, req.ExtraHosts); err != nil {
				return err
			}
			data = b.Bytes()
		}
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			return err
		}
	}
	return os.WriteFile(f.Hostname, []byte(req.Hostname+"\n"), 0o644)
}
