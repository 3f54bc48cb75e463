package runtime

import (
	"fmt"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/strata-containers/strata/internal/errdefs"
)

// nsPlan is how the spec's linux.namespaces are obtained.
type nsPlan struct {
	// clone are the new namespaces the init is cloned into.
	clone uintptr
	// unshareCgroup: a new cgroup namespace, which the init makes itself
	// once the runtime has put it in its cgroup, so that the cgroup is
	// the namespace's root.
	unshareCgroup bool
	// join are existing namespaces the init enters with setns.
	join []specs.LinuxNamespace
}

var nsFlags = map[specs.LinuxNamespaceType]uintptr{
	specs.PIDNamespace:     unix.CLONE_NEWPID,
	specs.NetworkNamespace: unix.CLONE_NEWNET,
	specs.MountNamespace:   unix.CLONE_NEWNS,
	specs.IPCNamespace:     unix.CLONE_NEWIPC,
	specs.UTSNamespace:     unix.CLONE_NEWUTS,
	specs.UserNamespace:    unix.CLONE_NEWUSER,
	specs.CgroupNamespace:  unix.CLONE_NEWCGROUP,
	specs.TimeNamespace:    unix.CLONE_NEWTIME,
}

// joinable are the namespaces a Go process can enter with setns: they
// apply to the calling thread only, which is the one that execs the
// workload. Entering a mount, user or pid namespace needs a
// single-threaded process, that is code running before the Go runtime
// starts: the nsenter cgo constructor (nsjoin.go), which then also joins
// the others and makes the new namespaces, in the order the kernel needs.
var joinable = map[specs.LinuxNamespaceType]bool{
	specs.NetworkNamespace: true, specs.IPCNamespace: true,
	specs.UTSNamespace: true, specs.CgroupNamespace: true,
}

func planNamespaces(nss []specs.LinuxNamespace) (nsPlan, error) {
	var p nsPlan
	seen := map[specs.LinuxNamespaceType]bool{}
	for _, ns := range nss {
		flag, ok := nsFlags[ns.Type]
		switch {
		case !ok:
			return p, errdefs.Invalid("unknown namespace type %q", ns.Type)
		case seen[ns.Type]:
			return p, errdefs.Invalid("namespace %q listed twice", ns.Type)
		case ns.Path != "":
			p.join = append(p.join, ns)
		case ns.Type == specs.TimeNamespace:
			return p, errdefs.Unavailable("time namespaces are not supported yet")
		case ns.Type == specs.CgroupNamespace:
			p.unshareCgroup = true
		default:
			p.clone |= flag
		}
		seen[ns.Type] = true
	}
	if p.clone&unix.CLONE_NEWNS == 0 && !joined(p, specs.MountNamespace) {
		return p, errdefs.Invalid("a mount namespace is required: the init pivots into the rootfs")
	}
	if p.needsNsenter() && p.clone&unix.CLONE_NEWUSER != 0 {
		return p, errdefs.Unavailable("a new user namespace together with joining an existing mount, pid or user namespace is not supported")
	}
	return p, nil
}

// joinNamespaces enters the namespaces of plan.join, then makes a new
// cgroup namespace if asked. The caller's thread must be locked.
func joinNamespaces(plan nsPlan) error {
	joins := plan.join
	if os.Getenv(joinedEnv) != "" {
		joins = nil // the parent joined them (userns_join.go)
	}
	if _, done := os.LookupEnv(nsenterEnv); done {
		joins = nil // the constructor joined them
	}
	for _, ns := range joins {
		fd, err := unix.Open(ns.Path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("opening %s namespace %s: %w", ns.Type, ns.Path, err)
		}
		err = unix.Setns(fd, int(nsFlags[ns.Type]))
		unix.Close(fd)
		if err != nil {
			return fmt.Errorf("joining %s namespace %s: %w", ns.Type, ns.Path, err)
		}
	}
	if plan.unshareCgroup {
		if err := unix.Unshare(unix.CLONE_NEWCGROUP); err != nil {
			return fmt.Errorf("creating cgroup namespace: %w", err)
		}
	}
	return nil
}
