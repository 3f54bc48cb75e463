package engine

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/opencontainers/go-digest"

	"github.com/strata-containers/strata/internal/archive"
)

// ContainerDiff lists what a container changed in its image's filesystem
// (`docker diff`): A, C and D lines in docker's order. It reads only the
// writable layer's metadata, running or not.
func (e *Engine) ContainerDiff(ctx context.Context, ref string) ([]archive.Change, error) {
	c, err := e.containers.Get(ctx, ref)
	if err != nil {
		return nil, err
	}
	defer e.shared()()
	rw, err := e.layers.GetRW(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	lowers, err := e.layerDirs(ctx, rw.Parent)
	if err != nil {
		return nil, err
	}
	if e.layers.Driver() == "vfs" {
		return vfsChanges(ctx, e.layers.RWDir(c.ID), lowers)
	}
	return archive.OverlayChanges(ctx, e.layers.RWDir(c.ID), lowers)
}

// layerDirs returns the directories of the chain ending in top, topmost
// first.
func (e *Engine) layerDirs(ctx context.Context, top digest.Digest) ([]string, error) {
	var dirs []string
	for cur := top; cur != ""; {
		info, err := e.layers.Get(ctx, cur)
		if err != nil {
			return nil, err
		}
		dirs = append(dirs, e.layers.Dir(cur))
		cur = info.Parent
	}
	return dirs, nil
}

// vfsChanges lists the changes of a vfs writable layer, a full copy of its
// parent's tree: archive.WriteChanges compares the two and its layer tar
// is read back as lines.
func vfsChanges(ctx context.Context, rwDir string, lowers []string) ([]archive.Change, error) {
	var parent string
	if len(lowers) > 0 {
		parent = lowers[0]
	} else {
		empty, err := os.MkdirTemp("", "strata-empty-")
		if err != nil {
			return nil, err
		}
		defer os.Remove(empty)
		parent = empty
	}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(archive.WriteChanges(ctx, pw, parent, rwDir)) }()
	defer pr.Close()
	var out []archive.Change
	listed := map[string]bool{}
	tr := tar.NewReader(pr)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("listing changes: %w", err)
		}
		dir, base := path.Split("/" + strings.TrimSuffix(hdr.Name, "/"))
		kind, p := byte('C'), path.Join(dir, base)
		switch {
		case strings.HasPrefix(base, ".wh."):
			kind, p = 'D', path.Join(dir, strings.TrimPrefix(base, ".wh."))
		case !exists(filepath.Join(parent, p)):
			kind = 'A'
		}
		parentDir := path.Dir(p)
		if kind != 'C' && parentDir != "/" && !listed[parentDir] {
			out = append(out, archive.Change{Kind: 'C', Path: parentDir})
			listed[parentDir] = true
		}
		listed[p] = true
		out = append(out, archive.Change{Kind: kind, Path: p})
	}
}

func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}
