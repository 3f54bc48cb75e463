package cgroups

import (
	"context"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

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
	cmd := startTrapper(t)
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
	// A frozen task cannot run its handler: it is still there. (An
	// unhandled fatal signal is another matter: the kernel kills the whole
	// thread group at once, frozen or not, on v2 - hence the trap.)
	if !procLives(cmd.Process.Pid) {
		t.Fatal("a frozen process ran its SIGTERM handler before the thaw")
	}
	if err := m.Thaw(ctx); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != 42 {
		t.Fatalf("trapper ended with %v, want its SIGTERM handler's exit 42 after the thaw", cmd.ProcessState)
	}
	if frozen, err := m.Frozen(ctx); err != nil || frozen {
		t.Fatalf("Frozen after Thaw = %v, %v", frozen, err)
	}
}

// startTrapper starts a shell that handles SIGTERM (exit 42) and returns
// once the handler is installed, as /proc/<pid>/status's SigCgt shows.
func startTrapper(t *testing.T) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("sh", "-c", "trap 'exit 42' TERM; sleep 1000 & wait")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Skipf("needs sh: %v", err)
	}
	t.Cleanup(func() {
		_ = unix.Kill(-cmd.Process.Pid, unix.SIGKILL)
		cmd.Wait()
	})
	for !handles(cmd.Process.Pid, unix.SIGTERM) {
		time.Sleep(time.Millisecond)
	}
	return cmd
}

// handles reports whether pid has a handler for sig.
func handles(pid int, sig unix.Signal) bool {
	data, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	for _, line := range strings.Split(string(data), "\n") {
		if hex, ok := strings.CutPrefix(line, "SigCgt:\t"); ok {
			mask, err := strconv.ParseUint(hex, 16, 64)
			return err == nil && mask&(1<<(uint(sig)-1)) != 0
		}
	}
	return false
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
