package build

import (
	"context"
	"fmt"
	"io"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/opencontainers/go-digest"

	"github.com/strata-containers/strata/internal/errdefs"
)

// copySpec is a COPY or ADD after substitution.
type copySpec struct {
	name     string // COPY or ADD
	srcs     []string
	contents []instructions.SourceContent // here-documents
	dest     string
	from     string
	chown    string
	chmod    string
	checksum string
	add      bool
	unpack   *bool    // ADD --unpack: nil unpacks local archives only
	exclude  []string // --exclude patterns
	parents  bool
}

func copyFromCopy(c *instructions.CopyCommand) copySpec {
	return copySpec{name: "COPY", srcs: c.SourcePaths, contents: c.SourceContents, dest: c.DestPath,
		from: c.From, chown: c.Chown, chmod: c.Chmod, exclude: c.ExcludePatterns, parents: c.Parents}
}

func copyFromAdd(c *instructions.AddCommand) copySpec {
	return copySpec{name: "ADD", srcs: c.SourcePaths, contents: c.SourceContents, dest: c.DestPath,
		chown: c.Chown, chmod: c.Chmod, checksum: c.Checksum, add: true, unpack: c.Unpack, exclude: c.ExcludePatterns}
}

// dispatchCopy copies files from the context (or another stage or image)
// into a new layer.
func (b *builder) dispatchCopy(ctx context.Context, st *state, cs copySpec) error {
	if cs.parents {
		return errdefs.Invalid("%s --parents is not supported", cs.name)
	}
	mode, err := parseChmod(cs.chmod)
	if err != nil {
		return err
	}
	src, release, err := b.copySource(ctx, cs)
	if err != nil {
		return err
	}
	defer release()
	plan, err := b.planCopy(ctx, st, cs, src)
	if err != nil {
		return err
	}
	defer plan.cleanup()
	desc := fmt.Sprintf("%s %s:%s in %s ", cs.name, plan.kind(), plan.hash.Encoded(), cs.dest)
	key := stepKey(st, fmt.Sprintf("%s from=%q chown=%q chmod=%q exclude=%q %s", cs.name, src.key, cs.chown, cs.chmod, cs.exclude, desc))
	if b.cached(ctx, st, key) {
		return nil
	}
	scratch, err := b.be.Scratch(ctx, st.chain)
	if err != nil {
		return err
	}
	defer scratch.Release(context.WithoutCancel(ctx))
	uid, gid, err := resolveChown(scratch.Rootfs(), cs.chown)
	if err != nil {
		return err
	}
	own := owner{uid: uid, gid: gid, chown: cs.chown != "", mode: mode}
	now := b.now() // the same in both writes, if there are two
	l, err := scratch.CommitTar(ctx, func(w io.Writer) error {
		return plan.writeTar(ctx, w, scratch.Rootfs(), own, now)
	}, b.opts.SourceDateEpoch)
	if err != nil {
		return fmt.Errorf("%s failed: %w", cs.name, err)
	}
	b.record(st, key, nop[:len(nop)-1]+desc, &l)
	return nil
}

// copySrc is where a COPY's sources are read: the context, or the root of a
// stage or image (mounted for the step). key names it in the cache key.
type copySrc struct {
	root    string
	context bool
	key     string
}

func (b *builder) copySource(ctx context.Context, cs copySpec) (copySrc, func(), error) {
	if cs.from == "" {
		if b.opts.ContextDir == "" && len(cs.srcs) > 0 {
			return copySrc{}, nil, errdefs.Invalid("%s failed: no build context (the Dockerfile came alone)", cs.name)
		}
		return copySrc{root: b.opts.ContextDir, context: true, key: "context"}, func() {}, nil
	}
	var chain, key digest.Digest
	if j, ok := b.stageRef(cs.from, b.stage); ok {
		// An earlier stage this one depends on: built by now.
		chain, key = b.built[j].chain, b.built[j].key
	} else {
		img, err := b.be.Image(ctx, cs.from, false)
		if err != nil {
			return copySrc{}, nil, fmt.Errorf("%s --from=%s: %w", cs.name, cs.from, err)
		}
		chain, key = img.Chain, img.ID
	}
	view, err := b.be.Scratch(ctx, chain)
	if err != nil {
		return copySrc{}, nil, err
	}
	release := func() { _ = view.Release(context.WithoutCancel(ctx)) }
	return copySrc{root: view.Rootfs(), key: key.String()}, release, nil
}

// destPath is the step's destination inside the rootfs, relative to its
// root, and whether it names a directory (a trailing slash).
func destPath(st *state, dest string) (string, bool) {
	isDir := strings.HasSuffix(dest, "/") || strings.HasSuffix(dest, "/.") || dest == "."
	if !path.IsAbs(dest) {
		wd := st.cfg.Config.WorkingDir
		if wd == "" {
			wd = "/"
		}
		dest = path.Join(wd, dest)
	}
	return strings.TrimPrefix(path.Clean(dest), "/"), isDir
}

func parseChmod(s string) (*uint32, error) {
	if s == "" {
		return nil, nil
	}
	m, err := strconv.ParseUint(s, 8, 32)
	if err != nil || m > 0o7777 {
		return nil, errdefs.Invalid("invalid chmod parameter: %s", s)
	}
	v := uint32(m)
	return &v, nil
}

// cleanSource makes a source path relative to its root; one that leaves
// the root is refused.
func cleanSource(name, p string) (string, error) {
	rel := filepath.Clean("/" + p)
	if c := filepath.Clean(p); c == ".." || strings.HasPrefix(c, "../") {
		return "", errdefs.Invalid("%s failed: forbidden path outside the build context: %s", name, p)
	}
	return strings.TrimPrefix(rel, "/"), nil
}
