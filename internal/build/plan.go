package build

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/moby/patternmatcher"
	"github.com/opencontainers/go-digest"

	"github.com/strata-containers/strata/internal/build/dockerignore"
	"github.com/strata-containers/strata/internal/errdefs"
)

// copyItem is one source of a COPY and where it goes.
type copyItem struct {
	src     string  // host path of the source ("" for a here-document)
	rel     string  // its path relative to the source root (for .dockerignore)
	base    string  // the name it takes inside a destination directory
	data    *string // here-document content
	isDir   bool    // copy the directory's contents
	extract bool    // ADD of a local tar: unpack it
	fromURL bool    // ADD of a URL: downloaded into the plan's temp dir
	// walked is what the hash's walk found (in walk order), so that the
	// layer is written from the very entries the cache key names, without
	// a second walk of a big tree.
	walked []walkedEntry
}

// walkedEntry is one entry of a directory source.
type walkedEntry struct {
	rel, host string
	fi        fs.FileInfo
}

// copyPlan is a COPY's sources, resolved and hashed, and its destination.
type copyPlan struct {
	items   []copyItem
	dst     string // relative to the rootfs root
	dstDir  bool   // the destination is a directory for sure
	hash    digest.Digest
	ignore  *patternmatcher.PatternMatcher
	tmp     string // downloads, in tempDir
	tempDir string
	memo    *hashMemo
	// exclude holds --exclude's patterns, matched against paths relative
	// to each source.
	exclude *patternmatcher.PatternMatcher
}

func (p *copyPlan) kind() string {
	switch {
	case len(p.items) != 1:
		return "multi"
	case p.items[0].isDir:
		return "dir"
	}
	return "file"
}

func (p *copyPlan) cleanup() {
	if p.tmp != "" {
		os.RemoveAll(p.tmp)
	}
}

func (b *builder) planCopy(ctx context.Context, st *state, cs copySpec, src copySrc) (*copyPlan, error) {
	p := &copyPlan{tempDir: b.opts.TempDir}
	if src.context {
		p.ignore, p.memo = b.ignore, b.memo
	}
	if len(cs.exclude) > 0 {
		excl, err := dockerignore.New(cs.exclude)
		if err != nil {
			return nil, errdefs.Invalid("%s --exclude: %w", cs.name, err)
		}
		p.exclude = excl
	}
	p.dst, p.dstDir = destPath(st, cs.dest)
	for _, s := range cs.srcs {
		items, err := p.resolve(ctx, cs, src, s)
		if err != nil {
			p.cleanup()
			return nil, err
		}
		p.items = append(p.items, items...)
	}
	for _, c := range cs.contents {
		data := c.Data
		p.items = append(p.items, copyItem{base: path.Base(c.Path), data: &data})
	}
	if len(p.items) == 0 {
		return nil, errdefs.Invalid("%s failed: no source files were specified", cs.name)
	}
	if len(p.items) > 1 || hasGlob(cs.srcs) {
		if !p.dstDir {
			if len(cs.srcs)+len(cs.contents) > 1 {
				return nil, errdefs.Invalid("When using %s with more than one source file, the destination must be a directory and end with a /", cs.name)
			}
		}
		p.dstDir = true
	}
	var err error
	if p.hash, err = p.contentHash(ctx); err != nil {
		p.cleanup()
		return nil, err
	}
	return p, nil
}

func hasGlob(srcs []string) bool {
	for _, s := range srcs {
		if strings.ContainsAny(s, "*?[") {
			return true
		}
	}
	return false
}

// resolve turns one source argument into items: a URL is downloaded, a
// pattern expanded, a path resolved inside the root.
func (p *copyPlan) resolve(ctx context.Context, cs copySpec, src copySrc, s string) ([]copyItem, error) {
	if cs.add && (strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://")) {
		it, err := p.download(ctx, s, cs.checksum)
		if err != nil {
			return nil, err
		}
		// A downloaded archive is unpacked only when asked (--unpack).
		it.extract = cs.unpack != nil && *cs.unpack && isArchive(it.src)
		return []copyItem{it}, nil
	}
	rel, err := cleanSource(cs.name, s)
	if err != nil {
		return nil, err
	}
	matches := []string{rel}
	if strings.ContainsAny(rel, "*?[") {
		if matches, err = glob(src.root, rel, p.ignore); err != nil {
			return nil, err
		}
		if len(matches) == 0 {
			return nil, errdefs.NotFound("%s failed: no source files were specified", cs.name)
		}
	}
	var items []copyItem
	for _, m := range matches {
		it, err := p.item(cs, src, m)
		if err != nil {
			return nil, err
		}
		items = append(items, it)
	}
	return items, nil
}

func (p *copyPlan) item(cs copySpec, src copySrc, rel string) (copyItem, error) {
	notFound := errdefs.NotFound("%s failed: file not found in build context or excluded by .dockerignore: stat %s: file does not exist", cs.name, rel)
	if src.context && rel != "" && dockerignore.Excluded(p.ignore, rel) {
		return copyItem{}, notFound
	}
	host, err := scopedPath(src.root, rel, src.context)
	if err != nil {
		return copyItem{}, errdefs.Invalid("%s failed: %s: %w", cs.name, rel, err)
	}
	fi, err := os.Stat(host)
	if err != nil {
		return copyItem{}, notFound
	}
	it := copyItem{src: host, rel: rel, base: path.Base("/" + rel), isDir: fi.IsDir()}
	if cs.add && fi.Mode().IsRegular() && (cs.unpack == nil || *cs.unpack) {
		it.extract = isArchive(host)
	}
	return it, nil
}

// glob expands a pattern relative to root, one path component at a time,
// leaving out excluded paths; the matches are sorted.
func glob(root, pattern string, ignore *patternmatcher.PatternMatcher) ([]string, error) {
	cands := []string{""}
	for _, part := range strings.Split(pattern, "/") {
		var next []string
		for _, c := range cands {
			if !strings.ContainsAny(part, "*?[") {
				next = append(next, path.Join(c, part))
				continue
			}
			ents, err := os.ReadDir(filepath.Join(root, c))
			if err != nil {
				continue
			}
			for _, e := range ents {
				if ok, err := path.Match(part, e.Name()); err != nil {
					return nil, errdefs.Invalid("bad pattern %q: %w", pattern, err)
				} else if ok {
					next = append(next, path.Join(c, e.Name()))
				}
			}
		}
		cands = next
	}
	var out []string
	for _, c := range cands {
		if _, err := os.Lstat(filepath.Join(root, c)); err == nil && !dockerignore.Excluded(ignore, c) {
			out = append(out, c)
		}
	}
	slices.Sort(out)
	return out, nil
}

// scopedPath resolves rel inside root, following symlinks without leaving
// it. In a build context (strict), a link that points out of it is an
// error; in an image's rootfs an absolute link is taken from its root.
func scopedPath(root, rel string, strict bool) (string, error) {
	parts := strings.Split(rel, "/")
	cur := ""
	for links := 0; len(parts) > 0; {
		part := parts[0]
		parts = parts[1:]
		switch part {
		case "", ".":
			continue
		case "..":
			if cur == "" {
				if strict {
					return "", errdefs.Invalid("forbidden path outside the build context")
				}
				continue
			}
			cur = path.Dir(cur)
			if cur == "." {
				cur = ""
			}
			continue
		}
		next := path.Join(cur, part)
		fi, err := os.Lstat(filepath.Join(root, next))
		if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
			cur = next
			continue
		}
		if links++; links > 40 {
			return "", errdefs.Invalid("too many levels of symbolic links")
		}
		target, err := os.Readlink(filepath.Join(root, next))
		if err != nil {
			return "", err
		}
		if path.IsAbs(target) {
			if strict {
				return "", errdefs.Invalid("symlink %s points outside the build context (to %s)", next, target)
			}
			cur = ""
		}
		parts = append(strings.Split(target, "/"), parts...)
	}
	return filepath.Join(root, cur), nil
}

// contentHash digests every file the plan takes: its path, type, mode,
// owner, size, link target and content; never its times.
func (p *copyPlan) contentHash(ctx context.Context) (digest.Digest, error) {
	h := sha256.New()
	for i := range p.items {
		it := &p.items[i]
		fmt.Fprintf(h, "item %q %v %v\n", it.base, it.isDir, it.extract)
		if it.data != nil {
			fmt.Fprintf(h, "data %q\n", *it.data)
			continue
		}
		var walked []walkedEntry
		err := p.walk(ctx, *it, func(rel, host string, fi fs.FileInfo) error {
			walked = append(walked, walkedEntry{rel: rel, host: host, fi: fi})
			return hashEntry(h, p.memo, rel, host, fi)
		})
		it.walked = walked
		if err != nil {
			return "", err
		}
	}
	return digest.NewDigest(digest.SHA256, h), nil
}

func hashEntry(h io.Writer, memo *hashMemo, rel, host string, fi fs.FileInfo) error {
	uid, gid := uint32(0), uint32(0)
	if sys, ok := fi.Sys().(*syscall.Stat_t); ok {
		uid, gid = sys.Uid, sys.Gid
	}
	fmt.Fprintf(h, "%q %o %d:%d %d", rel, uint32(fi.Mode()), uid, gid, fi.Size())
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		target, err := os.Readlink(host)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, " -> %q", target)
	case fi.Mode().IsRegular():
		sum, err := memo.fileHash(host, fi)
		if err != nil {
			return fmt.Errorf("reading %s: %w", rel, err)
		}
		fmt.Fprintf(h, " %s", sum)
	}
	fmt.Fprintln(h)
	return nil
}

// walk visits the entries an item copies, parents before children, in
// name order; rel is relative to the item ("" for the item itself).
// Paths the .dockerignore excludes are skipped.
func (p *copyPlan) walk(ctx context.Context, it copyItem, fn func(rel, host string, fi fs.FileInfo) error) error {
	if it.walked != nil {
		for _, w := range it.walked {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := fn(w.rel, w.host, w.fi); err != nil {
				return err
			}
		}
		return nil
	}
	if !it.isDir {
		fi, err := os.Stat(it.src)
		if err != nil {
			return err
		}
		return fn("", it.src, fi)
	}
	return filepath.WalkDir(it.src, func(host string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, _ := filepath.Rel(it.src, host)
		rel = filepath.ToSlash(rel)
		if rel == "." {
			rel = ""
		}
		if rel != "" && dockerignore.Excluded(p.exclude, rel) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if rel != "" && p.ignore != nil {
			if dockerignore.Excluded(p.ignore, path.Join(it.rel, rel)) {
				if d.IsDir() && !dockerignore.MayHoldIncluded(p.ignore) {
					return filepath.SkipDir
				}
				if !d.IsDir() {
					return nil
				}
			}
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		return fn(rel, host, fi)
	})
}
