package cgroups

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/strata-containers/strata/internal/errdefs"
)

// Hierarchy is one cgroup hierarchy mounted on the host.
type Hierarchy struct {
	Mountpoint string
	Version    int // 1 or 2
	// Controllers are the v1 controllers of the hierarchy ("cpu",
	// "name=systemd"); empty for v2.
	Controllers []string
}

// v1Controllers are the super options of a v1 mount that name a controller.
var v1Controllers = map[string]bool{
	"cpu": true, "cpuacct": true, "cpuset": true, "memory": true, "devices": true,
	"freezer": true, "blkio": true, "pids": true, "net_cls": true, "net_prio": true,
	"perf_event": true, "hugetlb": true, "rdma": true, "misc": true,
}

// hierarchies caches the first successful read of Hierarchies: the host
// mounts its hierarchies at boot, and a monitor, which lives as long as its
// container, would otherwise parse the whole mountinfo (every container's
// mounts included) at each exit, twice (the OOM counter, then Delete).
// runc and containerd keep theirs for the process's life too.
var hierarchies struct {
	sync.Mutex
	hs []Hierarchy
}

// Hierarchies lists the cgroup hierarchies this process sees, each once,
// as read the first time it succeeded in this process.
func Hierarchies() ([]Hierarchy, error) {
	hierarchies.Lock()
	defer hierarchies.Unlock()
	if hierarchies.hs != nil {
		return slices.Clone(hierarchies.hs), nil
	}
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, fmt.Errorf("reading mountinfo: %w", err)
	}
	hs := parseMountinfo(data)
	if len(hs) > 0 {
		hierarchies.hs = hs
	}
	return slices.Clone(hs), nil
}

// parseMountinfo reads mountinfo lines ("36 25 0:31 / /sys/fs/cgroup/memory
// rw,relatime - cgroup cgroup rw,memory") and keeps the first mount of each
// hierarchy whose root is the hierarchy's root.
func parseMountinfo(data []byte) []Hierarchy {
	var hs []Hierarchy
	seen := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		fields, tail := strings.Fields(pre), strings.Fields(post)
		if !ok || len(fields) < 5 || len(tail) < 3 || fields[3] != "/" {
			continue
		}
		mp := unescapeMountinfo(fields[4])
		switch tail[0] {
		case "cgroup2":
			if !seen["cgroup2"] {
				seen["cgroup2"] = true
				hs = append(hs, Hierarchy{Mountpoint: mp, Version: 2})
			}
		case "cgroup":
			var ctrls []string
			for _, o := range strings.Split(tail[2], ",") {
				if v1Controllers[o] || strings.HasPrefix(o, "name=") {
					ctrls = append(ctrls, o)
				}
			}
			key := strings.Join(ctrls, ",")
			if len(ctrls) > 0 && !seen[key] {
				seen[key] = true
				hs = append(hs, Hierarchy{Mountpoint: mp, Version: 1, Controllers: ctrls})
			}
		}
	}
	return hs
}

// unescapeMountinfo undoes the octal escapes (\040 for a space) of mountinfo.
func unescapeMountinfo(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// writeFile writes one value to a cgroup file, which must exist: cgroupfs
// creates its files itself, so a missing file means a missing controller.
func writeFile(dir, name, value string) error {
	p := filepath.Join(dir, name)
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_TRUNC|unix.O_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return errdefs.Unavailable("cgroup file %s is missing (controller not available): %w", p, err)
		}
		return fmt.Errorf("opening cgroup file %s: %w", p, err)
	}
	defer f.Close()
	if _, err := f.WriteString(value); err != nil {
		return fmt.Errorf("writing %q to %s: %w", value, p, err)
	}
	return nil
}

func readFile(dir, name string) (string, error) {
	data, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		return "", fmt.Errorf("reading cgroup file: %w", err)
	}
	return strings.TrimSpace(string(data)), nil
}

func readUint(dir, name string) (uint64, error) {
	s, err := readFile(dir, name)
	if err != nil {
		return 0, err
	}
	if s == "max" {
		return 0, nil
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("parsing %s in %s: %w", name, dir, err)
	}
	return n, nil
}

// readKey returns the value of key in a flat keyed file (cpu.stat).
func readKey(dir, name, key string) (uint64, error) {
	s, err := readFile(dir, name)
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(s, "\n") {
		k, v, ok := strings.Cut(line, " ")
		if ok && k == key {
			return strconv.ParseUint(strings.TrimSpace(v), 10, 64)
		}
	}
	return 0, fmt.Errorf("no %s in %s/%s", key, dir, name)
}

// readProcs reads the pids in cgroup.procs of dir; a missing cgroup has none.
func readProcs(dir string) ([]int, error) {
	data, err := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading processes of cgroup %s: %w", dir, err)
	}
	var pids []int
	for _, f := range strings.Fields(string(data)) {
		pid, err := strconv.Atoi(f)
		if err != nil {
			return nil, fmt.Errorf("parsing cgroup.procs of %s: %w", dir, err)
		}
		pids = append(pids, pid)
	}
	return pids, nil
}

// killAll signals each pid; a process that is gone already is no error.
func killAll(pids []int, sig unix.Signal) error {
	for _, pid := range pids {
		if err := unix.Kill(pid, sig); err != nil && !errors.Is(err, unix.ESRCH) {
			return fmt.Errorf("signalling process %d: %w", pid, err)
		}
	}
	return nil
}

// removeDir removes a cgroup directory once the kernel lets it: rmdir
// fails with EBUSY for a moment after the last process dies.
func removeDir(ctx context.Context, dir string) error {
	return poll(ctx, func() (bool, error) {
		err := unix.Rmdir(dir)
		switch {
		case err == nil, errors.Is(err, unix.ENOENT):
			return true, nil
		case errors.Is(err, unix.EBUSY):
			return false, nil
		}
		return false, fmt.Errorf("removing cgroup %s: %w", dir, err)
	})
}

// poll calls done until it reports true or fails, backing off up to 10ms
// between calls, and gives up when ctx ends.
func poll(ctx context.Context, done func() (bool, error)) error {
	for delay := 100 * time.Microsecond; ; delay = min(2*delay, 10*time.Millisecond) {
		ok, err := done()
		if err != nil || ok {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
	}
}
