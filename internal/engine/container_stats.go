package engine

import (
	"context"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/strata-containers/strata/internal/container"
	"github.com/strata-containers/strata/internal/errdefs"
)

// ContainerStatsSample is one reading of a container's usage, from its
// cgroup and its network namespace. CPU percentages need two readings:
// the CLI divides the CPU time between them by the time between them.
type ContainerStatsSample struct {
	ID, Name   string
	Running    bool
	Read       time.Time
	CPUNanos   uint64 // CPU time used, all CPUs, since the container started
	MemUsage   uint64 // bytes, without the inactive page cache (as docker shows it)
	MemLimit   uint64 // bytes: the limit, or the host's memory without one
	Pids       uint64
	NetRx      uint64 // bytes received on every interface but lo
	NetTx      uint64
	BlockRead  uint64
	BlockWrite uint64
}

// ContainerStats reads the usage of the containers refs names, or of every
// running container (every container with all) when refs is empty.
// A container that does not run reads as zeros.
func (e *Engine) ContainerStats(ctx context.Context, refs []string, all bool) ([]ContainerStatsSample, error) {
	var cs []container.Container
	if len(refs) == 0 {
		list, err := e.containers.List(ctx)
		if err != nil {
			return nil, err
		}
		for _, c := range list {
			if all || c.Running() {
				cs = append(cs, c)
			}
		}
	}
	for _, ref := range refs {
		c, err := e.containers.Get(ctx, ref)
		if err != nil {
			return nil, err
		}
		cs = append(cs, c)
	}
	rt, err := e.runtime()
	if err != nil {
		return nil, err
	}
	out := make([]ContainerStatsSample, 0, len(cs))
	host := memTotal()
	for _, c := range cs {
		s := ContainerStatsSample{ID: c.ID, Name: c.Name, Running: c.Running(), Read: time.Now()}
		if s.Running {
			st, err := rt.Stats(ctx, c.ID)
			if err != nil && !errdefs.IsNotFound(err) {
				return nil, err
			}
			s.CPUNanos, s.Pids = st.CPUUsage, st.PidsCurrent
			s.MemUsage, s.MemLimit = st.MemoryUsage-min(st.MemoryCache, st.MemoryUsage), st.MemoryLimit
			s.BlockRead, s.BlockWrite = st.BlkioRead, st.BlkioWrite
			s.NetRx, s.NetTx = netDev(c.State.Pid)
			if s.MemLimit == 0 || s.MemLimit > host {
				s.MemLimit = host
			}
		}
		out = append(out, s)
	}
	return out, nil
}

// netDev sums the bytes received and sent over the interfaces of process
// pid's network namespace, lo left out as docker leaves it out.
func netDev(pid int) (rx, tx uint64) {
	if pid <= 0 {
		return 0, 0
	}
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/net/dev")
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		name, counters, ok := strings.Cut(line, ":")
		if !ok || strings.TrimSpace(name) == "lo" {
			continue
		}
		f := strings.Fields(counters)
		if len(f) < 9 {
			continue
		}
		r, _ := strconv.ParseUint(f[0], 10, 64)
		t, _ := strconv.ParseUint(f[8], 10, 64)
		rx, tx = rx+r, tx+t
	}
	return rx, tx
}
