package cgroups

// OOMKills reads only the OOM kill counter of m (Stats.OOMKills): what a
// monitor asks after every exit, on the path to the CLI's return, where
// Stats would read eight files (cpuacct.usage alone can take milliseconds).
func OOMKills(m Manager) uint64 {
	switch m := m.(type) {
	case *v1:
		if dir, ok := m.dirs["memory"]; ok {
			return keyOr0(dir, "memory.oom_control", "oom_kill")
		}
		return 0
	case *v2:
		return keyOr0(m.dir, "memory.events", "oom_kill")
	}
	return 0
}
