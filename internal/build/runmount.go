package build

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"

	"github.com/strata-containers/strata/internal/errdefs"
)

// RunMount is a mount a RUN step asks for with --mount.
type RunMount struct {
	Type     string // "bind" or "tmpfs"
	Source   string // host path (bind)
	Target   string // absolute path in the container
	ReadOnly bool
}

// runMounts resolves a RUN's --mount flags, as BuildKit reads them:
// bind (read-only, from the context, a stage or an image), cache (a
// directory kept across builds under <root>/build/mounts) and tmpfs. It
// returns the mounts, what they add to the step's cache key, and a
// function that releases the stage or image views it mounted.
func (b *builder) runMounts(ctx context.Context, st *state, c *instructions.RunCommand) ([]RunMount, string, func(), error) {
	var mounts []RunMount
	var key strings.Builder
	var releases []func()
	release := func() {
		for _, r := range releases {
			r()
		}
	}
	for _, m := range instructions.GetMounts(c) {
		target := workdir(st.cfg.Config.WorkingDir, m.Target)
		switch m.Type {
		case instructions.MountTypeTmpfs:
			mounts = append(mounts, RunMount{Type: "tmpfs", Target: target})
			fmt.Fprintf(&key, "tmpfs %s;", target)
		case instructions.MountTypeCache:
			dir, err := b.cacheMount(m, target)
			if err != nil {
				release()
				return nil, "", nil, err
			}
			mounts = append(mounts, RunMount{Type: "bind", Source: dir, Target: target, ReadOnly: m.ReadOnly})
			fmt.Fprintf(&key, "cache %s %s;", target, dir)
		case instructions.MountTypeBind:
			rm, k, rel, err := b.bindMount(ctx, m, target)
			if rel != nil {
				releases = append(releases, rel)
			}
			if err != nil {
				release()
				return nil, "", nil, err
			}
			mounts = append(mounts, rm)
			key.WriteString(k)
		default:
			release()
			return nil, "", nil, errdefs.Invalid("RUN --mount=type=%s is not supported", m.Type)
		}
	}
	return mounts, key.String(), release, nil
}

// cacheMount makes (once) the directory of a cache mount, named by its id
// (the target by default).
func (b *builder) cacheMount(m *instructions.Mount, target string) (string, error) {
	id := m.CacheID
	if id == "" {
		id = target
	}
	sum := sha256.Sum256([]byte(id))
	dir := filepath.Join(filepath.Dir(b.opts.CacheDir), "mounts", hex.EncodeToString(sum[:16]))
	if _, err := os.Stat(dir); err == nil {
		return dir, nil
	}
	mode := os.FileMode(0o755)
	if m.Mode != nil {
		mode = os.FileMode(*m.Mode)
	}
	if err := os.MkdirAll(dir, mode); err != nil {
		return "", err
	}
	if err := os.Chmod(dir, mode); err != nil {
		return "", err
	}
	uid, gid := 0, 0
	if m.UID != nil {
		uid = int(*m.UID)
	}
	if m.GID != nil {
		gid = int(*m.GID)
	}
	return dir, os.Chown(dir, uid, gid)
}

// bindMount resolves a bind mount's source and what it adds to the cache
// key: the content hash of a context path, the key of a stage or the ID
// of an image with the path.
func (b *builder) bindMount(ctx context.Context, m *instructions.Mount, target string) (RunMount, string, func(), error) {
	if !m.ReadOnly {
		return RunMount{}, "", nil, errdefs.Invalid("RUN --mount=type=bind,rw is not supported (bind mounts are read-only)")
	}
	src, release, err := b.copySource(ctx, copySpec{name: "RUN --mount", srcs: []string{m.Source}, from: m.From})
	if err != nil {
		return RunMount{}, "", nil, err
	}
	rel, err := cleanSource("RUN --mount", m.Source)
	if err != nil {
		return RunMount{}, "", release, err
	}
	host, err := scopedPath(src.root, rel, src.context)
	if err != nil {
		return RunMount{}, "", release, errdefs.Invalid("RUN --mount source %s: %w", m.Source, err)
	}
	fi, err := os.Stat(host)
	if err != nil {
		return RunMount{}, "", release, errdefs.NotFound("RUN --mount source %s: not found", m.Source)
	}
	key := fmt.Sprintf("bind %s from %s:%s", target, src.key, path.Clean("/"+rel))
	if src.context {
		p := &copyPlan{ignore: b.ignore, memo: b.memo, items: []copyItem{{src: host, rel: rel, isDir: fi.IsDir()}}}
		h, err := p.contentHash(ctx)
		if err != nil {
			return RunMount{}, "", release, err
		}
		key += " " + h.String()
	}
	return RunMount{Type: "bind", Source: host, Target: target, ReadOnly: true}, key + ";", release, nil
}
