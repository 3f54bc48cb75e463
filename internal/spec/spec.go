package spec

import (
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/strata-containers/strata/internal/errdefs"
)

// Opt changes a spec being generated.
type Opt func(*specs.Spec) error

// DefaultPath is the PATH a container gets when its image sets none.
const DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// Generate returns Default(id) with opts applied in order.
func Generate(id string, opts ...Opt) (*specs.Spec, error) {
	s := Default(id)
	for _, o := range opts {
		if err := o(s); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Hostname is the hostname Docker gives container id: its short ID.
func Hostname(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// Default is the spec `docker run` starts from for container id: root
// user, cwd /, Docker's capabilities, mounts, masked and read-only paths,
// new pid, mount, uts, ipc, network and cgroup namespaces.
func Default(id string) *specs.Spec {
	caps := DefaultCapabilities()
	return &specs.Spec{
		Version:  specs.Version,
		Root:     &specs.Root{Path: "rootfs"},
		Hostname: Hostname(id),
		Process: &specs.Process{
			Args: []string{"sh"},
			Env:  []string{"PATH=" + DefaultPath, "HOSTNAME=" + Hostname(id)},
			Cwd:  "/",
			Capabilities: &specs.LinuxCapabilities{
				Bounding: caps, Effective: slicesClone(caps), Permitted: slicesClone(caps),
			},
		},
		Mounts: defaultMounts(),
		Linux: &specs.Linux{
			CgroupsPath: "/strata/" + id,
			Namespaces: []specs.LinuxNamespace{
				{Type: specs.PIDNamespace}, {Type: specs.MountNamespace}, {Type: specs.UTSNamespace},
				{Type: specs.IPCNamespace}, {Type: specs.NetworkNamespace}, {Type: specs.CgroupNamespace},
			},
			MaskedPaths:   slicesClone(maskedPaths),
			ReadonlyPaths: slicesClone(readonlyPaths),
			Resources:     &specs.LinuxResources{Devices: defaultDevices()},
		},
	}
}

// maskedPaths and readonlyPaths are Docker's lists (moby oci.DefaultSpec).
var (
	maskedPaths = []string{
		"/proc/asound", "/proc/acpi", "/proc/interrupts", "/proc/kcore", "/proc/keys",
		"/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
		"/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap",
	}
	readonlyPaths = []string{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}
)

func defaultMounts() []specs.Mount {
	return []specs.Mount{
		{Destination: "/proc", Type: "proc", Source: "proc", Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
		{Destination: "/dev/pts", Type: "devpts", Source: "devpts", Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}},
		{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev", "ro"}},
		{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup", Options: []string{"ro", "nosuid", "noexec", "nodev"}},
		{Destination: "/dev/mqueue", Type: "mqueue", Source: "mqueue", Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: "/dev/shm", Type: "tmpfs", Source: "shm", Options: []string{"nosuid", "noexec", "nodev", "mode=1777", "size=67108864"}},
	}
}

// defaultDevices is Docker's device cgroup: deny all, then allow mknod of
// any device and use of the standard character devices.
func defaultDevices() []specs.LinuxDeviceCgroup {
	allow := func(typ string, major, minor int64, access string) specs.LinuxDeviceCgroup {
		d := specs.LinuxDeviceCgroup{Allow: true, Type: typ, Access: access}
		if major >= 0 {
			d.Major = &major
		}
		if minor >= 0 {
			d.Minor = &minor
		}
		return d
	}
	return []specs.LinuxDeviceCgroup{
		{Allow: false, Access: "rwm"},
		allow("c", -1, -1, "m"), allow("b", -1, -1, "m"),
		allow("c", 1, 3, "rwm"), allow("c", 1, 8, "rwm"), allow("c", 1, 7, "rwm"),
		allow("c", 5, 0, "rwm"), allow("c", 1, 5, "rwm"), allow("c", 1, 9, "rwm"),
		allow("c", 136, -1, "rwm"), allow("c", 5, 2, "rwm"), allow("c", 10, 200, "rwm"),
	}
}

// WithHostname sets the hostname (and HOSTNAME in the environment).
func WithHostname(name string) Opt {
	return func(s *specs.Spec) error {
		if name == "" {
			return nil
		}
		s.Hostname = name
		s.Process.Env = replaceEnv(s.Process.Env, []string{"HOSTNAME=" + name})
		return nil
	}
}

// WithReadonlyRootfs mounts the container's root read-only (--read-only).
func WithReadonlyRootfs(ro bool) Opt {
	return func(s *specs.Spec) error {
		s.Root.Readonly = ro
		return nil
	}
}

// WithNetwork sets the network mode: "" or "none" or "default" give a new
// network namespace (only lo, until networks exist), "host" the host's.
func WithNetwork(mode string) Opt {
	return func(s *specs.Spec) error {
		switch mode {
		case "", "none", "default", "bridge":
			return nil
		case "host":
			s.Linux.Namespaces = removeNamespace(s.Linux.Namespaces, specs.NetworkNamespace)
			if h, err := os.Hostname(); err == nil {
				return WithHostname(h)(s)
			}
			return nil
		}
		return errdefs.NotFound("network %s not found", mode)
	}
}

func removeNamespace(nss []specs.LinuxNamespace, t specs.LinuxNamespaceType) []specs.LinuxNamespace {
	out := nss[:0]
	for _, ns := range nss {
		if ns.Type != t {
			out = append(out, ns)
		}
	}
	return out
}

// WithPrivileged gives every capability, lifts the masked and read-only
// paths, mounts /sys and cgroups read-write and allows every device, as
// `docker run --privileged` does (WithHostDevices adds the host's nodes).
func WithPrivileged(on bool) Opt {
	return func(s *specs.Spec) error {
		if !on {
			return nil
		}
		all := AllCapabilities()
		s.Process.Capabilities = &specs.LinuxCapabilities{
			Bounding: all, Effective: slicesClone(all), Permitted: slicesClone(all),
		}
		s.Linux.MaskedPaths, s.Linux.ReadonlyPaths = nil, nil
		for i, m := range s.Mounts {
			if m.Destination == "/sys" || m.Destination == "/sys/fs/cgroup" {
				s.Mounts[i].Options = withoutOption(m.Options, "ro")
			}
		}
		s.Linux.Resources.Devices = []specs.LinuxDeviceCgroup{{Allow: true, Access: "rwm"}}
		return nil
	}
}

func withoutOption(opts []string, drop string) []string {
	var out []string
	for _, o := range opts {
		if o != drop {
			out = append(out, o)
		}
	}
	return out
}

// WithAnnotations adds annotations to the spec.
func WithAnnotations(a map[string]string) Opt {
	return func(s *specs.Spec) error {
		if len(a) == 0 {
			return nil
		}
		if s.Annotations == nil {
			s.Annotations = map[string]string{}
		}
		for k, v := range a {
			s.Annotations[k] = v
		}
		return nil
	}
}

func slicesClone(s []string) []string { return append([]string(nil), s...) }
