package cgroups

import (
	"context"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// TestFreezerHoldsSignalsUntilThaw freezes a real process in each kind of
// hierarchy the host has: a SIGTERM sent meanwhile is only acted on once the
// cgroup is thawed, and Frozen follows the kernel's state.
func TestFreezerHoldsSignalsUntilThaw(t *testing.T) {
	requireRoot(t)
	managers := map[string]Manager{}
	if m, err := New(testPath(t)); err == nil {
		if mv1, ok := m.(*v1); ok && mv1.dirs["freezer"] == "" {
			t.Log("v1 freezer controller not mounted: v1 not checked")
		} else {
			managers["default"] = m
		}
	}
	for _, h := range mustHierarchies(t) {
		if h.Version == 2 {
			m, err := NewV2(h.Mountpoint, testPath(t))
			if err != nil {
				t.Fatal(err)
			}
			managers["v2"] = m
		}
	}
	if len(managers) == 0 {
		t.Skip("needs a cgroup hierarchy with a freezer")
	}
	for name, m := range managers {
		t.Run(name, func(t *testing.T) { checkFreezer(t, m) })
	}
}

func checkFreezer(t *testing.T, m Manager) {
	ctx := context.Background()
	cmd := startSleeper(t)
	cleanupManager(t, m)
	if err := m.Apply(ctx, cmd.Process.Pid); err != nil {
		t.Fatal(err)
	}
	if frozen, err := m.Frozen(ctx); err != nil || frozen {
		t.Fatalf("Frozen before Freeze = %v, %v", frozen, err)
	}
	if err := m.Freeze(ctx); err != nil {
		t.Fatal(err)
	}
	if frozen, err := m.Frozen(ctx); err != nil || !frozen {
		t.Fatalf("Frozen after Freeze = %v, %v", frozen, err)
	}
	if err := m.Freeze(ctx); err != nil {
		t.Fatalf("freezing a frozen cgroup: %v", err)
	}
	if err := unix.Kill(cmd.Process.Pid, unix.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// A frozen task cannot run its signal delivery: it is still there.
	if !procLives(cmd.Process.Pid) {
		t.Fatal("a frozen process died of SIGTERM before the thaw")
	}
	if err := m.Thaw(ctx); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if ws := cmd.ProcessState.Sys().(syscall.WaitStatus); !ws.Signaled() || ws.Signal() != unix.SIGTERM {
		t.Fatalf("sleeper ended with %v, want SIGTERM after the thaw", cmd.ProcessState)
	}
	if frozen, err := m.Frozen(ctx); err != nil || frozen {
		t.Fatalf("Frozen after Thaw = %v, %v", frozen, err)
	}
}

// procLives reports whether pid exists and is not a zombie.
func procLives(pid int) bool {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(data)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	return len(fields) > 0 && fields[0] != "Z" && fields[0] != "X"
}
