package layer

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/strata-containers/strata/internal/mount"
)

// TestEphemeralRW: an unsynced writable layer works as a synced one, is
// listed by RWIDs, and RemoveRW removes it even with the empty rw.json a
// power loss can leave.
func TestEphemeralRW(t *testing.T) {
	forEachDriver(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		base := register(t, s, "", file("etc/hostname", "base\n"))
		ms, err := s.CreateEphemeralRW(ctx, "e1", base.ChainID)
		if err != nil {
			t.Fatal(err)
		}
		target := filepath.Join(t.TempDir(), "rootfs")
		if err := os.Mkdir(target, 0o755); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { mount.UnmountAll(target); s.RemoveRW(ctx, "e1") })
		if err := mount.All(ms, target); err != nil {
			t.Fatal(err)
		}
		b, rerr := os.ReadFile(filepath.Join(target, "etc/hostname"))
		if err := mount.UnmountAll(target); err != nil {
			t.Fatal(err)
		}
		if string(b) != "base\n" {
			t.Errorf("etc/hostname = %q, %v", b, rerr)
		}
		if ids, err := s.RWIDs(ctx); err != nil || !slices.Equal(ids, []string{"e1"}) {
			t.Errorf("RWIDs = %v, %v", ids, err)
		}
		if err := os.Truncate(filepath.Join(s.rwPath("e1"), "rw.json"), 0); err != nil {
			t.Fatal(err)
		}
		if err := s.RemoveRW(ctx, "e1"); err != nil {
			t.Fatal(err)
		}
		if got := names(t, s, "rw"); len(got) != 0 {
			t.Errorf("rw/ = %v after RemoveRW", got)
		}
	})
}
