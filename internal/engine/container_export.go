package engine

import (
	"context"
	"fmt"
	"io"

	"github.com/strata-containers/strata/internal/archive"
	"github.com/strata-containers/strata/internal/atomicfile"
)

// ContainerExport writes a container's whole filesystem (the merged view
// of its image and writable layer, without volumes or the files the
// runtime mounts) to w as a tar (`docker export`), running or not.
func (e *Engine) ContainerExport(ctx context.Context, ref string, w io.Writer) error {
	c, unlock, err := e.lockedContainer(ctx, ref)
	if err != nil {
		return err
	}
	defer unlock()
	defer e.shared()()
	return e.withRootfs(ctx, c, true, func(rootfs string) error {
		uw, wait := unshiftedWriter(c, w) // userns_tar.go
		if err := wait(archive.WriteTree(ctx, uw, rootfs)); err != nil {
			return fmt.Errorf("exporting container %s: %w", c.Name, err)
		}
		return nil
	})
}

// ContainerExportFile is ContainerExport into the file path, which appears
// complete or not at all.
func (e *Engine) ContainerExportFile(ctx context.Context, ref, path string) error {
	f, err := atomicfile.Create(path, 0o600)
	if err != nil {
		return err
	}
	defer f.Abort()
	if err := e.ContainerExport(ctx, ref, f); err != nil {
		return err
	}
	return f.Commit()
}
