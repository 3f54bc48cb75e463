package spec

import (
	"slices"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/strata-containers/strata/internal/errdefs"
)

// defaultCaps is Docker's default capability set.
var defaultCaps = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
	"CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
	"CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
}

// allCaps are the capabilities Linux knows, in number order.
var allCaps = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
	"CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
	"CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
	"CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT",
	"CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME",
	"CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL",
	"CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
	"CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
}

// DefaultCapabilities returns Docker's default capability set.
func DefaultCapabilities() []string { return slices.Clone(defaultCaps) }

// AllCapabilities returns every capability, as --privileged grants.
func AllCapabilities() []string { return slices.Clone(allCaps) }

// normalizeCaps upper-cases names and adds the CAP_ prefix, as docker
// accepts "net_admin" for CAP_NET_ADMIN; "ALL" stays as it is.
func normalizeCaps(names []string) ([]string, error) {
	out := make([]string, 0, len(names))
	for _, n := range names {
		n = strings.ToUpper(strings.TrimSpace(n))
		if n == "ALL" {
			out = append(out, n)
			continue
		}
		if !strings.HasPrefix(n, "CAP_") {
			n = "CAP_" + n
		}
		if !slices.Contains(allCaps, n) {
			return nil, errdefs.Invalid("unknown capability: %q", n)
		}
		out = append(out, n)
	}
	return out, nil
}

// TweakCapabilities applies --cap-add and --cap-drop to base as Docker
// does: "ALL" in add grants everything but what drop names; "ALL" in drop
// keeps only what add names; otherwise drop, then add.
func TweakCapabilities(base, add, drop []string) ([]string, error) {
	add, err := normalizeCaps(add)
	if err != nil {
		return nil, err
	}
	drop, err = normalizeCaps(drop)
	if err != nil {
		return nil, err
	}
	var caps []string
	switch {
	case slices.Contains(add, "ALL"):
		for _, c := range allCaps {
			if !slices.Contains(drop, c) {
				caps = append(caps, c)
			}
		}
	case slices.Contains(drop, "ALL"):
		caps = add
	default:
		for _, c := range base {
			if !slices.Contains(drop, c) {
				caps = append(caps, c)
			}
		}
		caps = append(caps, add...)
	}
	return dedupe(caps), nil
}

func dedupe(caps []string) []string {
	out := []string{}
	for _, c := range caps {
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}

// WithCapabilities applies --cap-add/--cap-drop to the spec's capability
// sets (bounding, effective and permitted alike, as Docker does for root).
func WithCapabilities(add, drop []string) Opt {
	return func(s *specs.Spec) error {
		if len(add) == 0 && len(drop) == 0 {
			return nil
		}
		caps, err := TweakCapabilities(s.Process.Capabilities.Bounding, add, drop)
		if err != nil {
			return err
		}
		s.Process.Capabilities = &specs.LinuxCapabilities{
			Bounding: caps, Effective: slices.Clone(caps), Permitted: slices.Clone(caps),
		}
		return nil
	}
}
