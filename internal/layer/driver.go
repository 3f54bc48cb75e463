package layer

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/strata-containers/strata/internal/archive"
	"github.com/strata-containers/strata/internal/errdefs"
	"github.com/strata-containers/strata/internal/mount"
)

// driver is what differs between overlay and vfs: how a layer's directory
// relates to its parent's and how a rootfs is assembled. The Store does the
// rest (naming, locking, verifying, committing) the same way for both.
type driver interface {
	name() string
	// stacks reports whether a layer's directory holds only its own changes,
	// so that a rootfs stacks the whole chain and layers of one chain can be
	// unpacked in any order.
	stacks() bool
	whiteouts() archive.WhiteoutMode
	// initDiff prepares the empty diff directory of a new layer whose
	// parent's diff directory is parentDiff ("" for a base layer).
	initDiff(ctx context.Context, diff, parentDiff string) error
	// initRW fills the new directory of a writable layer over parentDiff.
	initRW(ctx context.Context, dir, parentDiff string) error
	// mounts assembles the rootfs of the writable layer in rwDir over the
	// diff directories of its chain, topmost first.
	mounts(rwDir string, lowers []string) []mount.Mount
}

// maxOverlayDepth is the kernel's limit on stacked lower layers
// (OVL_MAX_STACK).
const maxOverlayDepth = 500

type overlayDriver struct {
	empty string // an empty lower for a rootfs without parent
}

func (overlayDriver) name() string                                   { return "overlay" }
func (overlayDriver) stacks() bool                                   { return true }
func (overlayDriver) whiteouts() archive.WhiteoutMode                { return archive.WhiteoutOverlay }
func (overlayDriver) initDiff(context.Context, string, string) error { return nil }

// initRW makes the upper and work directories. The upper's root takes the
// owner and mode of the topmost lower's, which the rootfs would otherwise
// show (the upper's root attributes win in the merged view).
func (overlayDriver) initRW(_ context.Context, dir, parentDiff string) error {
	for _, d := range []string{"diff", "work"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			return err
		}
	}
	if parentDiff == "" {
		return nil
	}
	var st unix.Stat_t
	if err := unix.Stat(parentDiff, &st); err != nil {
		return err
	}
	upper := filepath.Join(dir, "diff")
	if err := os.Lchown(upper, int(st.Uid), int(st.Gid)); err != nil {
		return err
	}
	return unix.Chmod(upper, st.Mode&0o7777)
}

// overlayOptions are fixed for every rootfs. index=off: the inode index
// would tie the lowers to this upper and refuse other combinations of the
// same shared layers. redirect_dir=off and metacopy=off keep the upperdir a
// plain diff (whole copied-up files, renamed directories copied rather than
// redirected) that a layer tar can be written from.
var overlayOptions = []string{"index=off", "redirect_dir=off", "metacopy=off"}

func (d overlayDriver) mounts(rwDir string, lowers []string) []mount.Mount {
	if len(lowers) == 0 {
		lowers = []string{d.empty}
	}
	escaped := make([]string, len(lowers))
	for i, l := range lowers {
		escaped[i] = mount.EscapeLowerDir(l)
	}
	opts := []string{
		"lowerdir=" + strings.Join(escaped, ":"),
		"upperdir=" + filepath.Join(rwDir, "diff"),
		"workdir=" + filepath.Join(rwDir, "work"),
	}
	return []mount.Mount{{Type: "overlay", Source: "overlay", Options: append(opts, overlayOptions...)}}
}

type vfsDriver struct{}

func (vfsDriver) name() string                    { return "vfs" }
func (vfsDriver) stacks() bool                    { return false }
func (vfsDriver) whiteouts() archive.WhiteoutMode { return archive.WhiteoutDelete }

func (vfsDriver) initDiff(ctx context.Context, diff, parentDiff string) error {
	if parentDiff == "" {
		return nil
	}
	return copyTree(ctx, diff, parentDiff)
}

func (v vfsDriver) initRW(ctx context.Context, dir, parentDiff string) error {
	diff := filepath.Join(dir, "diff")
	if err := os.Mkdir(diff, 0o755); err != nil {
		return err
	}
	return v.initDiff(ctx, diff, parentDiff)
}

func (vfsDriver) mounts(rwDir string, _ []string) []mount.Mount {
	return []mount.Mount{{Type: "bind", Source: filepath.Join(rwDir, "diff"), Options: []string{"rbind"}}}
}

// chooseDriver picks the driver for the store at root; see the package doc.
func chooseDriver(ctx context.Context, root, name string) (driver, error) {
	overlayRoot := filepath.Join(root, "overlay")
	ov := overlayDriver{empty: filepath.Join(overlayRoot, "empty")}
	switch name {
	case "vfs":
		return vfsDriver{}, nil
	case "overlay":
		if err := ensureOverlay(ctx, overlayRoot); err != nil {
			return nil, errdefs.Unavailable("overlay driver at %s: %w", root, err)
		}
		return ov, nil
	case "":
		if probeCached(overlayRoot) {
			return ov, nil
		}
		if _, err := os.Stat(filepath.Join(root, "vfs")); err == nil {
			return vfsDriver{}, nil
		}
		if err := ensureOverlay(ctx, overlayRoot); err != nil {
			return vfsDriver{}, nil
		}
		return ov, nil
	default:
		return nil, errdefs.Invalid("layer driver %q: unknown (want overlay or vfs)", name)
	}
}

// ensureOverlay makes sure overlay works for a store at overlayRoot, by the
// cached probe result or a new probe, and creates the empty lower.
func ensureOverlay(ctx context.Context, overlayRoot string) error {
	if err := os.MkdirAll(overlayRoot, 0o700); err != nil {
		return fmt.Errorf("creating %s: %w", overlayRoot, err)
	}
	if err := os.Mkdir(filepath.Join(overlayRoot, "empty"), 0o755); err != nil && !os.IsExist(err) {
		return fmt.Errorf("creating %s: %w", overlayRoot, err)
	}
	if probeCached(overlayRoot) {
		return nil
	}
	if err := probeOverlay(ctx, overlayRoot); err != nil {
		return err
	}
	return writeProbeCache(overlayRoot)
}
