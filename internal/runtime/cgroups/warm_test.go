package cgroups

import (
	"context"
	"os"
	"testing"
	"time"
)

// TestWarmLeavesCgroupsAlone: the warm-up finds this process's own
// cgroup.procs, really moves it (the kernel accepts the write), stops when
// its context ends, and leaves the process in the cgroups it was in.
func TestWarmLeavesCgroupsAlone(t *testing.T) {
	requireRoot(t)
	procs := ownProcsFile()
	if procs == "" {
		t.Skip("needs a writable cgroup.procs of this process's own cgroup")
	}
	before, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(procs, []byte("0"), 0); err != nil {
		t.Fatalf("moving into own cgroup %s: %v", procs, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		Warm(ctx)
		close(done)
	}()
	time.Sleep(3 * warmInterval) // let it write a few times
	cancel()
	<-done
	after, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	if string(after) != string(before) {
		t.Fatalf("cgroups changed:\n%s\nthen\n%s", before, after)
	}
}
