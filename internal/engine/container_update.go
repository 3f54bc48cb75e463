package engine

import (
	"context"
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/strata-containers/strata/internal/container"
	"github.com/strata-containers/strata/internal/errdefs"
	"github.com/strata-containers/strata/internal/runtime/cgroups"
	"github.com/strata-containers/strata/internal/spec"
)

// LimitOptions are the create/run options beyond ContainerCreateOptions'
// basic limits: docker's --ulimit, --cpuset-cpus, --memory-swap,
// --memory-reservation, --blkio-weight, --oom-kill-disable, --init,
// --stop-signal and --stop-timeout.
type LimitOptions struct {
	Ulimits           []spec.Ulimit
	CpusetCpus        string
	MemorySwap        int64 // -1 unlimited; 0: twice the memory limit, as docker
	MemoryReservation int64
	BlkioWeight       uint16
	OomKillDisable    bool // recorded only: see docs/architecture.md
	Init              bool
	StopSignal        string
	StopTimeout       *int // seconds
}

// ParseUlimit parses a --ulimit value ("nofile=1024:2048").
func ParseUlimit(v string) (spec.Ulimit, error) { return spec.ParseUlimit(v) }

// BlkioWeightSupported reports whether this host can weight block I/O.
func BlkioWeightSupported() bool { return cgroups.BlkioWeightSupported() }

// applyLimits records o in rec, with docker's default for the swap limit.
func applyLimits(rec *container.Record, o LimitOptions) {
	h := &rec.HostConfig
	h.CpusetCpus, h.MemorySwap, h.MemoryReservation = o.CpusetCpus, o.MemorySwap, o.MemoryReservation
	h.BlkioWeight = o.BlkioWeight
	if h.MemorySwap == 0 && h.Memory > 0 {
		h.MemorySwap = 2 * h.Memory
	}
	if o.OomKillDisable {
		h.OomKillDisable = &o.OomKillDisable
	}
	if o.Init {
		h.Init = &o.Init
	}
	for _, u := range o.Ulimits {
		h.Ulimits = append(h.Ulimits, container.Ulimit{Name: u.Name, Hard: u.Hard, Soft: u.Soft})
	}
	rec.Config.StopSignal, rec.Config.StopTimeout = o.StopSignal, o.StopTimeout
}

// withLimits is the spec option of the record's limits; it also checks
// the stop signal, so that a bad one fails at creation.
func withLimits(rec container.Record) spec.Opt {
	h := rec.HostConfig
	l := spec.Limits{
		CpusetCpus: h.CpusetCpus, CpusetMems: h.CpusetMems, MemorySwap: h.MemorySwap,
		MemoryReservation: h.MemoryReservation, BlkioWeight: h.BlkioWeight, Init: h.Init != nil && *h.Init,
	}
	for _, u := range h.Ulimits {
		l.Ulimits = append(l.Ulimits, spec.Ulimit{Name: u.Name, Hard: u.Hard, Soft: u.Soft})
	}
	return func(s *specs.Spec) error {
		if rec.Config.StopSignal != "" {
			if _, err := parseSignal(rec.Config.StopSignal); err != nil {
				return err
			}
		}
		return spec.WithLimits(l)(s)
	}
}

// ContainerUpdateOptions are the limits `update` changes; nil leaves one
// as it is.
type ContainerUpdateOptions struct {
	Memory, MemorySwap, MemoryReservation *int64
	NanoCPUs, CPUShares, PidsLimit        *int64
	CpusetCpus                            *string
	BlkioWeight                           *uint16
}

// ContainerUpdate changes a container's limits: its record, under the
// container's lock, and, while it runs, its cgroup, which is written first
// so that a limit the kernel refuses leaves the record as it was.
func (e *Engine) ContainerUpdate(ctx context.Context, ref string, o ContainerUpdateOptions) error {
	c, err := e.containers.Get(ctx, ref)
	if err != nil {
		return err
	}
	unlock, err := e.containers.Lock(ctx, c.ID)
	if err != nil {
		return err
	}
	defer unlock()
	if c, err = e.containers.Get(ctx, c.ID); err != nil {
		return err
	}
	rec := c.Record
	if err := o.apply(&rec.HostConfig); err != nil {
		return err
	}
	s, err := generateSpec(rec, spec.User{})
	if err != nil {
		return err
	}
	if c.Running() {
		if err := e.updateCgroup(ctx, c.ID, o, s.Linux.Resources); err != nil {
			return err
		}
	}
	_, err = e.containers.Update(ctx, c.ID, func(r *container.Record) error {
		r.HostConfig = rec.HostConfig
		return nil
	})
	return err
}

// apply changes h, with docker's checks.
func (o ContainerUpdateOptions) apply(h *container.HostConfig) error {
	if o.Memory != nil {
		if o.MemorySwap == nil && h.MemorySwap > 0 && *o.Memory > h.MemorySwap {
			return errdefs.Invalid("Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time")
		}
		h.Memory = *o.Memory
	}
	set := func(dst *int64, v *int64) {
		if v != nil {
			*dst = *v
		}
	}
	set(&h.MemorySwap, o.MemorySwap)
	set(&h.MemoryReservation, o.MemoryReservation)
	set(&h.NanoCPUs, o.NanoCPUs)
	set(&h.CPUShares, o.CPUShares)
	set(&h.PidsLimit, o.PidsLimit)
	if o.CpusetCpus != nil {
		h.CpusetCpus = *o.CpusetCpus
	}
	if o.BlkioWeight != nil {
		if *o.BlkioWeight > 0 && !cgroups.BlkioWeightSupported() {
			return errdefs.Unavailable("Your kernel does not support Block I/O weight or the cgroup is not mounted")
		}
		h.BlkioWeight = *o.BlkioWeight
	}
	return nil
}

// updateCgroup writes the changed limits of the new spec's resources to
// the running container's cgroup. Device rules are left out: rewriting
// them would deny every device for a moment.
func (e *Engine) updateCgroup(ctx context.Context, id string, o ContainerUpdateOptions, res *specs.LinuxResources) error {
	up := &specs.LinuxResources{Memory: res.Memory, CPU: res.CPU, Pids: res.Pids, BlockIO: res.BlockIO}
	if o.PidsLimit != nil && *o.PidsLimit <= 0 {
		unlimited := int64(0)
		up.Pids = &specs.LinuxPids{Limit: &unlimited}
	}
	rt, err := e.runtime()
	if err != nil {
		return err
	}
	if err := rt.Update(ctx, id, up); err != nil {
		return fmt.Errorf("updating container %s: %w", id, err)
	}
	return nil
}
