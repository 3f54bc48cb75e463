package volume

import (
	"context"
	"fmt"
	"strings"

	"github.com/strata-containers/strata/internal/errdefs"
	"github.com/strata-containers/strata/internal/mount"
)

// optionKeys are the --opt keys of the local driver, as docker's.
var optionKeys = map[string]bool{"type": true, "device": true, "o": true}

func validateOptions(opts map[string]string) error {
	for k := range opts {
		if !optionKeys[k] {
			return errdefs.Invalid("invalid option: %q", k)
		}
	}
	if len(opts) > 0 && opts["device"] == "" {
		return errdefs.Invalid(`missing required option: "device"`)
	}
	if len(opts) > 0 && opts["type"] == "" {
		return errdefs.Invalid(`missing required option: "type"`)
	}
	return nil
}

// mountOf is the file system a volume's options describe, if any.
func mountOf(v Volume) (mount.Mount, bool) {
	if v.Options["device"] == "" {
		return mount.Mount{}, false
	}
	m := mount.Mount{Type: v.Options["type"], Source: v.Options["device"]}
	if o := v.Options["o"]; o != "" {
		m.Options = strings.Split(o, ",")
	}
	return m, true
}

// Mount makes the volume's content available on the host and returns its
// path: for a volume created with --opt type/device/o, it mounts the file
// system on the volume's _data directory unless it is mounted already.
// The mount stays until the volume is removed (docker unmounts when the
// last container using it stops; strata has no daemon to count them, and a
// reboot ends it anyway). Containers bind-mount the returned path.
func (s *Store) Mount(ctx context.Context, name string) (string, error) {
	v, err := s.Get(ctx, name)
	if err != nil {
		return "", err
	}
	m, ok := mountOf(v)
	if !ok {
		return v.Mountpoint, nil
	}
	// Exclusive, so that two starting containers do not mount it twice.
	if err := s.lock.LockContext(ctx); err != nil {
		return "", err
	}
	defer s.lock.Unlock()
	if mounted, err := mount.IsMountPoint(v.Mountpoint); err != nil || mounted {
		return v.Mountpoint, err
	}
	if err := m.Mount(v.Mountpoint); err != nil {
		return "", fmt.Errorf("mounting volume %s: %w", name, err)
	}
	return v.Mountpoint, nil
}

// unmount unmounts what Mount mounted for name; the lock is held.
func (s *Store) unmount(name string) error {
	if err := unmountIfMounted(s.dataPath(name)); err != nil {
		return fmt.Errorf("unmounting volume %s: %w", name, err)
	}
	return nil
}

// unmountIfMounted succeeds when nothing is mounted on path.
func unmountIfMounted(path string) error { return mount.UnmountAll(path) }
