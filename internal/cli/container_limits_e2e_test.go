package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strata-containers/strata/internal/engine"
	"github.com/strata-containers/strata/internal/testutil"
)

// TestE2ELimitFlags: the run flags reach the container (rlimits, cgroup
// files, the record), and bad values fail with docker's words before
// anything is created.
func TestE2ELimitFlags(t *testing.T) {
	s := newContainerStore(t)
	out := s.ok(nil, "run", "--name", "lim", "--ulimit", "nofile=1000:2000", "--memory", "32m", "--memory-reservation", "16m",
		"--cpuset-cpus", "0", "--stop-signal", "SIGUSR1", "--stop-timeout", "3", "--oom-kill-disable",
		"busybox", "sh", "-c", "ulimit -n; ulimit -Hn; cat /sys/fs/cgroup/cpuset/cpuset.cpus /sys/fs/cgroup/memory/memory.soft_limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/cpuset.cpus /sys/fs/cgroup/memory.low")
	if got := strings.Fields(out); len(got) != 4 || got[0] != "1000" || got[1] != "2000" || got[2] != "0" || got[3] != "16777216" {
		t.Fatalf("inside the container: %q", out)
	}
	want := "[{nofile 2000 1000}] 0 67108864 16777216 SIGUSR1 3 true"
	if got := s.inspectField(t, "lim", "{{.HostConfig.Ulimits}} {{.HostConfig.CpusetCpus}} {{.HostConfig.MemorySwap}} {{.HostConfig.MemoryReservation}} {{.Config.StopSignal}} {{.Config.StopTimeout}} {{.HostConfig.OomKillDisable}}"); got != want {
		t.Fatalf("record: %s, want %s", got, want)
	}
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"--ulimit", "nofile=30000:30000"}, 125, "above this host's"},
		{[]string{"--ulimit", "bogus=1"}, 125, `invalid argument "bogus=1" for "--ulimit" flag`},
		{[]string{"--memory-swap", "1g"}, 125, "You should always set the Memory limit when using Memoryswap limit"},
		{[]string{"--memory", "64m", "--memory-swap", "32m"}, 125, "Minimum memoryswap limit should be larger than memory limit"},
		{[]string{"--memory", "16m", "--memory-reservation", "32m"}, 125, "Minimum memory limit can not be less than memory reservation limit"},
		{[]string{"--cpuset-cpus", "0-4096"}, 125, "Requested CPUs are not available"},
		{[]string{"--cpuset-cpus", "x"}, 125, "Invalid value x for cpuset cpus"},
		{[]string{"--stop-signal", "NOPE"}, 125, "invalid signal: NOPE"},
		{[]string{"--memory-swap", "12XB"}, 125, `invalid argument "12XB" for "--memory-swap" flag`},
	} {
		r := s.run(nil, append(append([]string{"create"}, tc.args...), "busybox")...)
		if r.code != tc.code || !strings.Contains(r.stderr, tc.msg) {
			t.Errorf("create %v: exit %d: %s", tc.args, r.code, r.stderr)
		}
	}
	if got := s.ok(nil, "ps", "-aq"); len(lines(got)) != 1 {
		t.Fatalf("failed creates left containers: %q", got)
	}
}

func TestE2EPsFiltersAndSize(t *testing.T) {
	s := newContainerStore(t)
	s.run(nil, "run", "--name", "first", "busybox", "sh", "-c", "exit 3")
	// Another image: same files, another config, so another ID.
	s.ok(nil, "import", "--change", `CMD ["true"]`, writeFile(t, "busybox.tar", testutil.BusyboxRootfs(t)), "other:1")
	s.run(nil, "run", "--name", "second", "other:1", "sh", "-c", "head -c 5000 /dev/zero > /file")
	s.ok(nil, "run", "-d", "--name", "third", "busybox", "sleep", "1000")
	for _, tc := range []struct {
		filter, want string
	}{
		{"exited=3", "first"},
		{"exited=0", "second"},
		{"ancestor=other:1", "second"},
		{"before=second", "first"},
		{"since=second", "third"},
		{"status=running", "third"},
		{"name=sec", "second"},
	} {
		if got := strings.Join(lines(s.ok(nil, "ps", "-a", "--filter", tc.filter, "--format", "{{.Names}}")), ","); got != tc.want {
			t.Errorf("ps -a --filter %s: %q, want %q", tc.filter, got, tc.want)
		}
	}
	if got := s.ok(nil, "ps", "-n", "2", "--format", "{{.Names}}"); got != "third\nsecond\n" {
		t.Errorf("ps -n 2: %q", got)
	}
	if got := s.ok(nil, "ps", "-l", "--format", "{{.Names}}"); got != "third\n" {
		t.Errorf("ps -l: %q", got)
	}
	table := lines(s.ok(nil, "ps", "-a", "-s", "--filter", "name=second"))
	if !strings.HasSuffix(strings.TrimSpace(table[0]), "SIZE") || !strings.Contains(table[1], "5kB (virtual ") {
		t.Errorf("ps -s:\n%s", strings.Join(table, "\n"))
	}
	if r := s.run(nil, "ps", "--filter", "exited=x"); r.code != 1 || !strings.Contains(r.stderr, "invalid filter 'exited=x'") {
		t.Errorf("ps --filter exited=x: exit %d: %s", r.code, r.stderr)
	}
	s.ok(nil, "rm", "-f", "third")
}

func TestE2EBlkioWeight(t *testing.T) {
	s := newContainerStore(t)
	if !engine.BlkioWeightSupported() {
		r := s.run(nil, "create", "--blkio-weight", "300", "busybox")
		if r.code != 0 || !strings.Contains(r.stderr, "does not support Block I/O weight") {
			t.Fatalf("--blkio-weight without kernel support: exit %d: %s", r.code, r.stderr)
		}
		t.Skip("needs a block I/O weight in the kernel (CFQ's blkio.weight, BFQ's blkio.bfq.weight or v2 io.weight)")
	}
	id := strings.TrimSpace(s.ok(nil, "run", "-d", "--blkio-weight", "300", "busybox", "sleep", "1000"))
	weight := func() string {
		for _, f := range []string{"blkio.bfq.weight", "blkio.weight"} {
			if data, err := os.ReadFile(filepath.Join("/sys/fs/cgroup/blkio/strata", id, f)); err == nil {
				return strings.TrimPrefix(strings.TrimSpace(string(data)), "default ")
			}
		}
		return cgroupFile(t, id, "", "", "io.weight")
	}
	if got := weight(); got != "300" {
		t.Fatalf("weight %q, want 300", got)
	}
	s.ok(nil, "update", "--blkio-weight", "500", id)
	if got := weight(); got != "500" {
		t.Fatalf("weight after update %q, want 500", got)
	}
	if r := s.run(nil, "update", "--blkio-weight", "5", id); r.code != 1 || !strings.Contains(r.stderr, "Range of blkio weight is from 10 to 1000") {
		t.Fatalf("update --blkio-weight 5: exit %d: %s", r.code, r.stderr)
	}
	s.ok(nil, "rm", "-f", id)
}

// TestE2EStatsStream: without --no-stream, stats redraws the table (clear
// screen, home) until interrupted.
func TestE2EStatsStream(t *testing.T) {
	s := newContainerStore(t)
	s.ok(nil, "run", "-d", "--name", "busy", "busybox", "sleep", "1000")
	cmd := s.command(nil, "stats", "busy")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	var got []byte
	buf := make([]byte, 4096)
	for bytes.Count(got, []byte("\033[2J\033[H")) < 2 {
		n, err := out.Read(buf)
		if err != nil {
			t.Fatalf("stats stopped after %q: %v", got, err)
		}
		got = append(got, buf[:n]...)
	}
	if !bytes.Contains(got, []byte("CONTAINER ID")) || !bytes.Contains(got, []byte(" busy ")) {
		t.Fatalf("frames: %q", got)
	}
	cmd.Process.Signal(os.Interrupt)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("stats after ^C: %v", err)
	}
}
