package layer

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/strata-containers/strata/internal/atomicfile"
	"github.com/strata-containers/strata/internal/mount"
)

// The probe result is valid for one kernel and one file system: a store
// moved to another disk or booted into another kernel probes again.
const probeFile = ".probe-ok"

func probeKey(overlayRoot string) (string, error) {
	var uts unix.Utsname
	if err := unix.Uname(&uts); err != nil {
		return "", fmt.Errorf("uname: %w", err)
	}
	var st unix.Stat_t
	if err := unix.Stat(overlayRoot, &st); err != nil {
		return "", fmt.Errorf("stat %s: %w", overlayRoot, err)
	}
	return fmt.Sprintf("kernel=%s dev=%d\n", unix.ByteSliceToString(uts.Release[:]), st.Dev), nil
}

func probeCached(overlayRoot string) bool {
	b, err := os.ReadFile(filepath.Join(overlayRoot, probeFile))
	if err != nil {
		return false
	}
	key, err := probeKey(overlayRoot)
	return err == nil && string(b) == key
}

func writeProbeCache(overlayRoot string) error {
	key, err := probeKey(overlayRoot)
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(filepath.Join(overlayRoot, probeFile), []byte(key), 0o644)
}

// probeOverlay mounts a tiny overlay with the options every rootfs uses and
// its upper on the store's file system (overlay cannot take an upper on
// overlay, nfs, ...), and checks what the store relies on: lower files show
// through, writes land in the upper, deletions become whiteouts.
func probeOverlay(ctx context.Context, overlayRoot string) error {
	tmpDir := filepath.Join(overlayRoot, "tmp")
	if err := os.MkdirAll(tmpDir, 0o700); err != nil {
		return fmt.Errorf("creating %s: %w", tmpDir, err)
	}
	t, err := newTmp(tmpDir)
	if err != nil {
		return err
	}
	defer t.release()
	// t.dir is laid out as a writable layer (diff/ is the upper, work/) so
	// that the probe mounts exactly what mounts returns for a container.
	dirs := map[string]string{}
	for _, d := range []string{"lower", "diff", "work", "merged"} {
		dirs[d] = filepath.Join(t.dir, d)
		if err := os.MkdirAll(dirs[d], 0o755); err != nil {
			return fmt.Errorf("probe: %w", err)
		}
	}
	if err := os.WriteFile(filepath.Join(dirs["lower"], "f"), []byte("probe"), 0o644); err != nil {
		return fmt.Errorf("probe: %w", err)
	}
	ms := overlayDriver{}.mounts(t.dir, []string{dirs["lower"]})
	if err := ms[0].Mount(dirs["merged"]); err != nil {
		return fmt.Errorf("probe: %w", err)
	}
	defer mount.Unmount(dirs["merged"])
	return checkProbe(ctx, dirs)
}

func checkProbe(ctx context.Context, dirs map[string]string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	merged := dirs["merged"]
	if b, err := os.ReadFile(filepath.Join(merged, "f")); err != nil || string(b) != "probe" {
		return fmt.Errorf("probe: lower file not visible in the overlay (%q, %v)", b, err)
	}
	if err := os.WriteFile(filepath.Join(merged, "g"), nil, 0o644); err != nil {
		return fmt.Errorf("probe: writing through the overlay: %w", err)
	}
	if _, err := os.Stat(filepath.Join(dirs["diff"], "g")); err != nil {
		return fmt.Errorf("probe: write did not reach the upper: %w", err)
	}
	if err := os.Remove(filepath.Join(merged, "f")); err != nil {
		return fmt.Errorf("probe: deleting through the overlay: %w", err)
	}
	var st unix.Stat_t
	err := unix.Lstat(filepath.Join(dirs["diff"], "f"), &st)
	if err != nil || st.Mode&unix.S_IFMT != unix.S_IFCHR || st.Rdev != 0 {
		return errors.New("probe: deletion left no whiteout in the upper")
	}
	return nil
}
