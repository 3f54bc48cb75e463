package layer

import (
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// ShiftRW hands writable layer id to a remapped container whose root is
// host uid:gid (--userns-remap). Overlay writes the upper layer with the
// credentials of the process that writes through it, so the upper and work
// directories must belong to the container's root; the upper's root keeps
// its owner relative to the namespace (host root becomes uid:gid). The
// image layers below stay owned by host root and are shown shifted through
// idmapped mounts (mount.IdmapLowersOption). Only overlay layers shift: a
// vfs copy would need a chown of the whole tree.
func (s *Store) ShiftRW(id string, uid, gid uint32) error {
	if err := validID(id); err != nil {
		return err
	}
	if s.drv.name() != "overlay" {
		return fmt.Errorf("writable layer %s: user namespace remapping needs the overlay driver", id)
	}
	dir := s.rwPath(id)
	var st unix.Stat_t
	upper := filepath.Join(dir, "diff")
	if err := unix.Lstat(upper, &st); err != nil {
		return fmt.Errorf("shifting writable layer %s: %w", id, err)
	}
	if err := os.Lchown(upper, int(uid+st.Uid), int(gid+st.Gid)); err != nil {
		return fmt.Errorf("shifting writable layer %s: %w", id, err)
	}
	if err := os.Lchown(filepath.Join(dir, "work"), int(uid), int(gid)); err != nil {
		return fmt.Errorf("shifting writable layer %s: %w", id, err)
	}
	return nil
}
