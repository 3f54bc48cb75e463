package monitor

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// TestWaitLauncherRemoved checks that the monitor skips its cleanup only
// when its launcher said it removed the container, not when the launcher
// just went away.
func TestWaitLauncherRemoved(t *testing.T) {
	for _, tc := range []struct {
		name    string
		removed bool
	}{{"removed", true}, {"gone", false}} {
		t.Run(tc.name, func(t *testing.T) {
			fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
			if err != nil {
				t.Fatal(err)
			}
			h := &Handle{conn: os.NewFile(uintptr(fds[0]), "launcher")}
			m := &monitor{conn: os.NewFile(uintptr(fds[1]), "monitor")}
			t.Cleanup(func() { h.conn.Close() })
			if tc.removed {
				h.Removed()
			}
			_ = unix.Shutdown(int(h.conn.Fd()), unix.SHUT_WR)
			if got := m.waitLauncher(); got != tc.removed {
				t.Errorf("waitLauncher() = %v, want %v", got, tc.removed)
			}
		})
	}
}

func TestWriteBundleFileReplaces(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.json")
	for _, data := range []string{"first", "second"} {
		if err := WriteBundleFile(path, []byte(data)); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != data {
			t.Fatalf("after writing %q: %q, %v", data, got, err)
		}
	}
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil || len(entries) != 1 {
		t.Errorf("directory holds %v (%v), want only config.json", entries, err)
	}
}
