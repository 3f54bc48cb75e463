package cgroups

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/strata-containers/strata/internal/errdefs"
)

// TestV1UpdateLive changes the limits of a cgroup with a process in it,
// as `update` does, both ways round: memory and memory+swap raised
// (memsw first) and lowered (memory first), which the kernel refuses in
// the wrong order.
func TestV1UpdateLive(t *testing.T) {
	m := requireV1(t)
	if !m.hasSwapAccounting() {
		t.Skip("needs swap accounting (memory.memsw.limit_in_bytes)")
	}
	ctx := context.Background()
	cmd := startSleeper(t)
	cleanupManager(t, m)
	if err := m.Apply(ctx, cmd.Process.Pid); err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct{ limit, swap int64 }{{32 << 20, 64 << 20}, {128 << 20, 256 << 20}, {16 << 20, 16 << 20}} {
		limit, swap, pids := step.limit, step.swap, int64(9)
		if err := m.Set(ctx, &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: &limit, Swap: &swap}, Pids: &specs.LinuxPids{Limit: &pids}}); err != nil {
			t.Fatalf("set %d/%d: %v", limit, swap, err)
		}
		st, err := m.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.MemoryLimit != uint64(limit) || st.PidsLimit != 9 || st.PidsCurrent != 1 {
			t.Fatalf("stats after set %d: %+v", limit, st)
		}
		if got, _ := readUint(m.dirs["memory"], "memory.memsw.limit_in_bytes"); got != uint64(swap) {
			t.Fatalf("memsw = %d, want %d", got, swap)
		}
	}
	st, err := m.Stats(ctx)
	if err != nil || st.OOMKills != 0 {
		t.Fatalf("a sleeper was OOM-killed? %+v %v", st, err)
	}
}

// TestBlkioWeight writes the weight where the kernel has a file for it and
// fails with ErrUnavailable where it has none (CFQ is gone since Linux 5.0;
// BFQ's file exists only with BFQ built in).
func TestBlkioWeight(t *testing.T) {
	m := requireV1(t)
	if m.dirs["blkio"] == "" {
		t.Skip("needs the cgroup v1 blkio controller mounted")
	}
	ctx := context.Background()
	cmd := startSleeper(t)
	cleanupManager(t, m)
	if err := m.Apply(ctx, cmd.Process.Pid); err != nil {
		t.Fatal(err)
	}
	w := uint16(300)
	err := m.Set(ctx, &specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{Weight: &w}})
	if BlkioWeightSupported() {
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := readFile(m.dirs["blkio"], "blkio.bfq.weight"); got != "300" && got != "default 300" {
			if got, _ = readFile(m.dirs["blkio"], "blkio.weight"); got != "300" {
				t.Fatalf("weight file holds %q after setting 300", got)
			}
		}
		return
	}
	if !errors.Is(err, errdefs.ErrUnavailable) {
		t.Fatalf("weight on a kernel without a weight file: %v, want ErrUnavailable", err)
	}
}

func TestV2BlockIOAndStatsFiles(t *testing.T) {
	w := uint16(10)
	if got := v2BlockIO(&specs.LinuxBlockIO{Weight: &w}); len(got) != 1 || got[0] != [2]string{"io.weight", "default 1"} {
		t.Fatalf("v2BlockIO(10) = %v", got)
	}
	w = 1000
	if got := v2BlockIO(&specs.LinuxBlockIO{Weight: &w}); got[0][1] != "default 10000" {
		t.Fatalf("v2BlockIO(1000) = %v", got)
	}
	dir := t.TempDir()
	for name, data := range map[string]string{
		"memory.max": "max\n", "pids.max": "50\n", "memory.events": "low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\n",
		"memory.stat": "anon 10\ninactive_file 4096\n", "io.stat": "8:0 rbytes=100 wbytes=20 rios=1\n8:16 rbytes=1 wbytes=2\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var s Stats
	if err := (&v2{dir: dir}).moreStats(&s); err != nil {
		t.Fatal(err)
	}
	if n := OOMKills(&v2{dir: dir}); n != 1 {
		t.Errorf("OOMKills = %d, want 1", n)
	}
	if want := (Stats{PidsLimit: 50, MemoryCache: 4096, OOMKills: 1, BlkioRead: 101, BlkioWrite: 22}); s != want {
		t.Fatalf("stats %+v, want %+v", s, want)
	}
}
