package engine

import (
	"os"
	"os/exec"
	"testing"

	"golang.org/x/sys/unix"
)

// TestCatches reads real processes' handlers: this Go process catches
// SIGINT, a sleep does not.
func TestCatches(t *testing.T) {
	if !catches(os.Getpid(), unix.SIGINT) {
		t.Error("this test process does not catch SIGINT, says catches")
	}
	cmd := exec.Command("sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Skipf("needs sleep: %v", err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	if catches(cmd.Process.Pid, unix.SIGINT) {
		t.Error("sleep catches SIGINT, says catches")
	}
	if !catches(1<<30, unix.SIGINT) {
		t.Error("a missing process should count as catching (the signal is sent as it is)")
	}
}
