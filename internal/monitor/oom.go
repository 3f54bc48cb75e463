package monitor

import "context"

// oomKilled reports whether the kernel's OOM killer struck the container
// for its memory limit (State.OOMKilled). It reads the container's cgroup
// counters (memory.oom_control on v1, memory.events on v2), so it is asked
// after the workload exited and before teardown removes the cgroup. A
// counter that cannot be read counts as no kill.
func (m *monitor) oomKilled(ctx context.Context) bool {
	killed, err := m.rt.OOMKilled(ctx, m.cfg.ID)
	return err == nil && killed
}
