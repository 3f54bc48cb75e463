package cgroups

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Moving a process into a cgroup (a write to cgroup.procs) takes the
// kernel's cgroup_threadgroup_rwsem for writing. That lock is a per-CPU
// rwsem: its first writer waits for an RCU grace period (rcu_sync_enter),
// 8-20 ms on a busy host, and writers that come while the lock's fast path
// is still switched off (up to one grace period after the last writer)
// pass at once. Each container's init is moved once per hierarchy, so the
// first move is usually the single most expensive step of `run`.
//
// Warm pays that wait ahead of time, off the critical path: it moves the
// calling process into the cgroup it is already in (a migration that
// changes nothing but takes the lock) every warmInterval until ctx ends,
// so that a real move made meanwhile finds the lock ready.
const warmInterval = 4 * time.Millisecond

// warmLimit bounds a warm-up whose caller forgot to cancel it.
const warmLimit = 2 * time.Second

// Warm keeps cgroup moves cheap until ctx is done (see above). It gives up
// silently if this process cannot find or write its own cgroup.procs: it
// is an optimization only.
func Warm(ctx context.Context) {
	procs := ownProcsFile()
	if procs == "" {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, warmLimit)
	defer cancel()
	tick := time.NewTicker(warmInterval)
	defer tick.Stop()
	for {
		// "0" names the writing process.
		if err := os.WriteFile(procs, []byte("0"), 0); err != nil {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// ownProcsFile returns the cgroup.procs of this process's own cgroup in
// one hierarchy it can see, or "" if there is none.
func ownProcsFile() string {
	data, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return ""
	}
	hs, err := Hierarchies()
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		// "4:memory:/a/b" (v1) or "0::/a/b" (v2).
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 || !strings.HasPrefix(parts[2], "/") {
			continue
		}
		for _, h := range hs {
			if !ownsLine(h, parts[1]) {
				continue
			}
			p := filepath.Join(h.Mountpoint, parts[2], "cgroup.procs")
			if unix.Access(p, unix.W_OK) == nil {
				return p
			}
		}
	}
	return ""
}

// ownsLine reports whether h is the hierarchy of a /proc/self/cgroup
// line whose controller field is controllers.
func ownsLine(h Hierarchy, controllers string) bool {
	if controllers == "" {
		return h.Version == 2
	}
	return h.Version == 1 && strings.Join(h.Controllers, ",") == controllers
}
