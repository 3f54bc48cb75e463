package engine

import (
	"context"
	"fmt"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/strata-containers/strata/internal/container"
	"github.com/strata-containers/strata/internal/errdefs"
	"github.com/strata-containers/strata/internal/network"
)

// NetworkOptions are the network options of create and run.
type NetworkOptions struct {
	Aliases    []string // --network-alias
	IP, MAC    string   // --ip, --mac-address
	Publish    []string // -p
	PublishAll bool     // -P
	DNS        []string
	DNSSearch  []string
	DNSOptions []string
	ExtraHosts []string // --add-host
	Expose     []string // --expose
	Links      []string // --link
}

// specNetworkMode is the mode the spec package knows: a user network or
// another container's namespace is a namespace of its own until
// setupContainerNetwork puts a path in it.
func specNetworkMode(mode string) string {
	switch mode {
	case network.HostNetwork, network.NoneNetwork:
		return mode
	}
	return network.DefaultNetwork
}

// applyNetworkOptions validates o against the container's network mode
// and records it in rec, in docker's fields.
func (e *Engine) applyNetworkOptions(ctx context.Context, rec *container.Record, o NetworkOptions, exposed map[string]struct{}) error {
	h := &rec.HostConfig
	if h.NetworkMode == "" || h.NetworkMode == "default" {
		h.NetworkMode = network.DefaultNetwork
	}
	mode := h.NetworkMode
	if err := e.checkNetworkMode(ctx, mode); err != nil {
		return err
	}
	custom := mode != network.DefaultNetwork && mode != network.HostNetwork && mode != network.NoneNetwork &&
		!strings.HasPrefix(mode, "container:")
	switch {
	case len(o.Aliases) > 0 && !custom:
		return errdefs.Invalid("network-scoped alias is supported only for containers in user defined networks")
	case o.IP != "" && !custom:
		return errdefs.Invalid("user specified IP address is supported on user defined networks only")
	}
	ports, err := network.ParsePublish(o.Publish)
	if err != nil {
		return err
	}
	rec.Config.ExposedPorts = map[string]struct{}{}
	for p := range exposed {
		rec.Config.ExposedPorts[p] = struct{}{}
	}
	h.PortBindings = map[string][]container.PortBinding{}
	for _, p := range ports {
		b := container.PortBinding{HostIP: p.HostIP}
		if p.HostPort != 0 {
			b.HostPort = strconv.Itoa(int(p.HostPort))
		}
		h.PortBindings[p.Key()] = append(h.PortBindings[p.Key()], b)
		rec.Config.ExposedPorts[p.Key()] = struct{}{}
	}
	h.PublishAllPorts = o.PublishAll
	h.DNS, h.DNSSearch, h.DNSOptions, h.ExtraHosts = o.DNS, o.DNSSearch, o.DNSOptions, o.ExtraHosts
	if err := e.applyLegacyOptions(ctx, rec, o); err != nil {
		return err
	}
	rec.NetworkingConfig.EndpointsConfig = map[string]container.EndpointConfig{}
	if mode == network.DefaultNetwork || custom {
		ep := container.EndpointConfig{Aliases: o.Aliases, MacAddress: o.MAC}
		if o.IP != "" {
			ep.IPAMConfig = &container.EndpointIPAMConfig{IPv4Address: o.IP}
		}
		rec.NetworkingConfig.EndpointsConfig[mode] = ep
	}
	return nil
}

func (e *Engine) checkNetworkMode(ctx context.Context, mode string) error {
	if ref, ok := strings.CutPrefix(mode, "container:"); ok {
		_, err := e.containers.Get(ctx, ref)
		return err
	}
	m, err := e.networks()
	if err != nil {
		return err
	}
	_, err = m.Get(ctx, mode)
	return err
}

// setupContainerNetwork gives a starting container its network: a
// namespace set up in advance for bridge networks (the init joins it by
// path), another container's namespace, the host's, or a new empty one;
// and its /etc/hosts, /etc/resolv.conf and /etc/hostname, bind-mounted
// from the bundle.
func (e *Engine) setupContainerNetwork(ctx context.Context, c container.Container, s *specs.Spec) error {
	mode := c.HostConfig.NetworkMode
	filesDir := e.bundle(c.ID)
	if ref, ok := strings.CutPrefix(mode, "container:"); ok {
		return e.joinContainerNetwork(ctx, ref, s)
	}
	req := e.networkRequest(c, filesDir)
	if err := e.resolveLegacyOptions(ctx, c, &req); err != nil {
		return err
	}
	switch mode {
	case network.HostNetwork:
		req.Hostname = s.Hostname
		if err := network.WriteHostFiles(req); err != nil {
			return err
		}
	case network.NoneNetwork:
		if err := network.WriteFiles(req, network.State{}); err != nil {
			return err
		}
	default:
		if err := e.setupBridge(ctx, c, req, s); err != nil {
			return err
		}
	}
	addFileMounts(s, network.FilesIn(filesDir), c.HostConfig.ReadonlyRootfs)
	return nil
}

func (e *Engine) setupBridge(ctx context.Context, c container.Container, req network.Request, s *specs.Spec) error {
	m, err := e.networks()
	if err != nil {
		return err
	}
	st, err := e.setupWithReclaim(ctx, m, req)
	if err != nil {
		return err
	}
	for _, ep := range st.Endpoints {
		if ep.UserDefined {
			if err := e.ensureDNS(ctx, ep.NetworkID); err != nil {
				_ = m.Teardown(context.WithoutCancel(ctx), c.ID)
				return err
			}
		}
	}
	setNetNSPath(s, st.NSPath)
	return nil
}

func (e *Engine) networkRequest(c container.Container, filesDir string) network.Request {
	h := c.HostConfig
	req := network.Request{ContainerID: c.ID, Name: c.Name, Hostname: c.Config.Hostname, FilesDir: filesDir,
		DNS: h.DNS, DNSSearch: h.DNSSearch, DNSOptions: h.DNSOptions, ExtraHosts: h.ExtraHosts}
	names := make([]string, 0, len(c.NetworkingConfig.EndpointsConfig))
	for name := range c.NetworkingConfig.EndpointsConfig {
		if name != h.NetworkMode {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	if _, ok := c.NetworkingConfig.EndpointsConfig[h.NetworkMode]; ok || len(names) == 0 {
		names = append([]string{h.NetworkMode}, names...)
	}
	for _, name := range names {
		ep := c.NetworkingConfig.EndpointsConfig[name]
		a := network.Attachment{Network: name, Aliases: ep.Aliases, MAC: ep.MacAddress}
		if ep.IPAMConfig != nil {
			a.IP = ep.IPAMConfig.IPv4Address
		}
		req.Attachments = append(req.Attachments, a)
	}
	req.Attachments = e.withConnections(c, req.Attachments)
	req.Ports = portMappings(c)
	return req
}

// withConnections applies `network connect` and `disconnect` to the
// attachments of the container's record.
func (e *Engine) withConnections(c container.Container, as []network.Attachment) []network.Attachment {
	m, err := e.networks()
	if err != nil {
		return as
	}
	conns, err := m.ReadConnections(c.ID)
	if err != nil || (len(conns.Connected) == 0 && len(conns.Disconnected) == 0) {
		return as
	}
	out := as[:0:0]
	for _, a := range as {
		n, err := m.Get(context.Background(), a.Network)
		if err != nil || !slices.Contains(conns.Disconnected, n.ID) {
			out = append(out, a)
		}
	}
	return append(out, conns.Connected...)
}

// portMappings are the container's -p bindings, plus its exposed ports on
// random host ports with -P.
func portMappings(c container.Container) []network.PortMapping {
	var out []network.PortMapping
	keys := make([]string, 0, len(c.HostConfig.PortBindings))
	for k := range c.HostConfig.PortBindings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, b := range c.HostConfig.PortBindings[k] {
			spec := k
			if b.HostPort != "" || b.HostIP != "" {
				spec = fmt.Sprintf("%s:%s:%s", b.HostIP, b.HostPort, k)
			}
			ms, err := network.ParsePublish([]string{spec})
			if err == nil {
				out = append(out, ms...)
			}
		}
	}
	if c.HostConfig.PublishAllPorts {
		var exposed []string
		for p := range c.Config.ExposedPorts {
			if _, bound := c.HostConfig.PortBindings[p]; !bound {
				exposed = append(exposed, p)
			}
		}
		out = append(out, network.ExposedMappings(exposed)...)
	}
	return out
}

// joinContainerNetwork puts the container in the network namespace of the
// running container ref, with that container's files.
func (e *Engine) joinContainerNetwork(ctx context.Context, ref string, s *specs.Spec) error {
	other, err := e.containers.Get(ctx, ref)
	if err != nil {
		return err
	}
	if !other.Running() {
		return errdefs.Conflict("cannot join network namespace of a non running container: container %s is %s", ref, other.State.Status)
	}
	path := fmt.Sprintf("/proc/%d/ns/net", other.State.Pid)
	if m, err := e.networks(); err == nil {
		if st, err := m.ReadState(other.ID); err == nil {
			path = st.NSPath
		}
	}
	setNetNSPath(s, path)
	files := network.FilesIn(e.bundle(other.ID))
	if _, err := os.Stat(files.Hosts); err == nil {
		addFileMounts(s, files, false)
	}
	s.Hostname = other.Config.Hostname
	return nil
}

func setNetNSPath(s *specs.Spec, path string) {
	for i, ns := range s.Linux.Namespaces {
		if ns.Type == specs.NetworkNamespace {
			s.Linux.Namespaces[i].Path = path
			return
		}
	}
	s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.NetworkNamespace, Path: path})
}

func addFileMounts(s *specs.Spec, f network.Files, readonly bool) {
	opts := []string{"rbind", "rprivate"}
	if readonly {
		opts = append(opts, "ro")
	}
	for _, m := range [][2]string{{"/etc/hosts", f.Hosts}, {"/etc/resolv.conf", f.ResolvConf}, {"/etc/hostname", f.Hostname}} {
		s.Mounts = append(s.Mounts, specs.Mount{Destination: m[0], Type: "bind", Source: m[1], Options: opts})
	}
}

// teardownContainerNetwork frees the container's network: veths,
// addresses, published ports, namespace; the last container of a
// network takes its bridge and rules with it.
func (e *Engine) teardownContainerNetwork(ctx context.Context, id string) error {
	m, err := e.networks()
	if err != nil {
		return err
	}
	if err := m.Teardown(ctx, id); err != nil {
		return err
	}
	return m.RemoveConnections(id)
}

// A container's network lives from its start to its stop, as docker's:
// a stopped container holds no namespace, address or published port, so
// another container can publish its ports at once, and its next start
// sets everything up again.
//
// The monitor is the one process that sees the end (a stop, a kill, an
// exit of its own, the end of a restart policy), but it imports only leaf
// packages; it runs monitor.Config.Release, `network release <id>`, this
// binary re-executed, before its state says "exited" (so no start can
// race it: the container still counts as running) and after the runtime
// deleted the container (so no process is left in the namespace). Between
// the runs of a restart policy nothing is released: the monitor restarts
// the workload from the same bundle, whose spec names the same namespace.
// A monitor killed before it could run the release leaves the network to
// the container's next start (whose Setup tears down first), its removal,
// or the sweep of `network rm`.

// networkRelease is the argv the monitor of c runs at its end; nothing for
// an --rm container (its Cleanup removes it, network included) or one
// without a namespace of its own to wire.
func (e *Engine) networkRelease(c container.Container) []string {
	mode := c.HostConfig.NetworkMode
	if c.HostConfig.AutoRemove || mode == network.HostNetwork || mode == network.NoneNetwork ||
		strings.HasPrefix(mode, "container:") {
		return nil
	}
	// strata by path: in the monitor, /proc/self/exe may be strata-monitor.
	return []string{exes().self, "--root", e.cfg.Root, "--runroot", e.cfg.RunRoot,
		"--storage-driver", e.layers.Driver(), "network", "release", c.ID}
}

// ContainerNetworkRelease frees container id's network, as its removal
// does, but keeps its `network connect`s for the next start. It is
// idempotent, and takes no lock of the container: the monitor runs it
// while a start of that container may hold the lock, waiting for the
// monitor's answer.
func (e *Engine) ContainerNetworkRelease(ctx context.Context, id string) error {
	m, err := e.networks()
	if err != nil {
		return err
	}
	return m.Teardown(ctx, id)
}
