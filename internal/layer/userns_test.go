package layer

import (
	"context"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/strata-containers/strata/internal/errdefs"
)

// TestShiftRW gives a writable layer to a remapped root: its upper root
// keeps its owner relative to the range, the work directory is the
// range start's, and vfs layers refuse.
func TestShiftRW(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, "overlay")
	if _, err := s.CreateRW(ctx, "c1", ""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.RemoveRW(ctx, "c1") })
	if err := s.ShiftRW("c1", 100000, 200000); err != nil {
		t.Fatal(err)
	}
	for dir, want := range map[string][2]uint32{"diff": {100000, 200000}, "work": {100000, 200000}} {
		var st unix.Stat_t
		if err := unix.Lstat(filepath.Join(s.rwPath("c1"), dir), &st); err != nil {
			t.Fatal(err)
		}
		if st.Uid != want[0] || st.Gid != want[1] {
			t.Errorf("%s owned by %d:%d, want %d:%d", dir, st.Uid, st.Gid, want[0], want[1])
		}
	}
	if err := s.ShiftRW("../x", 1, 1); !errdefs.IsInvalid(err) {
		t.Errorf("bad id: %v", err)
	}
	v := openStore(t, "vfs")
	if _, err := v.CreateRW(ctx, "c2", ""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.RemoveRW(ctx, "c2") })
	if err := v.ShiftRW("c2", 100000, 100000); err == nil {
		t.Error("vfs layer shifted")
	}
}
