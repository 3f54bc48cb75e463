package imagetar

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"

	"github.com/opencontainers/go-digest"

	"github.com/strata-containers/strata/internal/archive"
	"github.com/strata-containers/strata/internal/errdefs"
	"github.com/strata-containers/strata/internal/layer"
)

// maxMetaSize bounds the top-level JSON files kept in memory; real ones are
// a few KiB even for archives of many images.
const maxMetaSize = 32 << 20

// maxLinkDepth bounds symlink chains inside an archive.
const maxLinkDepth = 16

// Loaded is one image that Load made available.
type Loaded struct {
	ID   digest.Digest
	Tags []string // familiar names it was tagged with; empty: loaded by ID only
}

// Load reads an archive: `docker save` output (classic layout: manifest.json
// + <id>/layer.tar + <id>.json + repositories; or the OCI-layout-based one
// Docker >= 25 writes), or a plain OCI image layout tar. The archive may be
// gzip or zstd compressed (sniffed). It reads r once, without spooling.
func Load(ctx context.Context, st Stores, r io.Reader) ([]Loaded, error) {
	src := rereadable(r)
	dr, c, err := archive.Decompress(r)
	if err != nil {
		return nil, errdefs.Invalid("reading archive: %w", err)
	}
	defer dr.Close()
	l := newLoader(st)
	defer l.discardStaged()
	if c == archive.Uncompressed {
		l.src = src
	}
	if err := l.readTar(ctx, dr); err != nil {
		return nil, err
	}
	return l.finish(ctx)
}

// LoadDir is Load for an OCI image layout directory or a docker save archive
// extracted to a directory. Symlinks are followed only inside dir.
func LoadDir(ctx context.Context, st Stores, dir string) ([]Loaded, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("opening image directory %s: %w", dir, err)
	}
	defer root.Close()
	l := newLoader(st)
	defer l.discardStaged()
	if err := l.readDir(ctx, root); err != nil {
		return nil, fmt.Errorf("loading %s: %w", dir, err)
	}
	return l.finish(ctx)
}

// loader collects what an archive holds: blobs go to the content store as
// they stream by, named by their path; small metadata stays in memory.
type loader struct {
	st    Stores
	files map[string]digest.Digest // archive path -> ingested blob
	links map[string]string        // archive path -> archive path it links to
	meta  map[string][]byte        // top-level metadata files
	blobs map[digest.Digest]bool   // every digest ingested
	sizes map[digest.Digest]int64  // their sizes
	// rebuilt holds the layer blobs the archive held but the content store
	// does not: their layers are in the layer store, which rebuilds them.
	rebuilt     map[digest.Digest]bool
	rebuildable map[digest.Digest]bool // diffIDs the layer store can rebuild; nil until listed
	// staged holds the layers unpacked straight from the archive (see
	// take), by digest, until an image's manifest says where they go.
	staged map[digest.Digest]*layer.Staged
	// src is the archive when it can be read again (see rereadable);
	// reread, while an entry is taken, reads that entry again.
	src    *archiveFile
	reread func() (io.ReadCloser, error)
	buf    []byte
}

func newLoader(st Stores) *loader {
	return &loader{
		st:      st,
		files:   map[string]digest.Digest{},
		links:   map[string]string{},
		meta:    map[string][]byte{},
		blobs:   map[digest.Digest]bool{},
		sizes:   map[digest.Digest]int64{},
		rebuilt: map[digest.Digest]bool{},
		staged:  map[digest.Digest]*layer.Staged{},
	}
}

func (l *loader) readTar(ctx context.Context, r io.Reader) error {
	cr := &countReader{r: r}
	tr := tar.NewReader(cr)
	for n := 0; ; n++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return tarError(n, err)
		}
		// The tar reader reads no further than the header: the entry's
		// content starts here.
		l.reread = l.src.section(cr.n, hdr.Size)
		err = l.entry(ctx, hdr, tr)
		l.reread = nil
		if err != nil {
			return err
		}
	}
}

// tarError classifies a failure of the tar reader: all of them mean the
// input is not a (complete) tar archive.
func tarError(entries int, err error) error {
	switch {
	case entries == 0 && (errors.Is(err, tar.ErrHeader) || errors.Is(err, io.ErrUnexpectedEOF)):
		return errdefs.Invalid("reading archive: not a tar archive: %w", err)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errdefs.Invalid("reading archive: truncated tar: %w", err)
	default:
		return errdefs.Invalid("reading archive: %w", err)
	}
}

func (l *loader) entry(ctx context.Context, hdr *tar.Header, r io.Reader) error {
	name, err := cleanName(hdr.Name)
	if err != nil || name == "" {
		return err
	}
	switch hdr.Typeflag {
	case tar.TypeReg:
		return l.file(ctx, name, hdr.Size, r)
	case tar.TypeSymlink:
		return l.link(name, path.Join(path.Dir(name), hdr.Linkname))
	case tar.TypeLink:
		return l.link(name, hdr.Linkname)
	}
	return nil // directories and anything else carry nothing we read
}

func (l *loader) readDir(ctx context.Context, root *os.Root) error {
	return fs.WalkDir(root.FS(), ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		switch {
		case d.Type().IsRegular():
			return l.openFile(ctx, root, name)
		case d.Type()&fs.ModeSymlink != 0:
			target, err := root.Readlink(name)
			if err != nil {
				return err
			}
			return l.link(name, path.Join(path.Dir(name), target))
		}
		return nil
	})
}

func (l *loader) openFile(ctx context.Context, root *os.Root, name string) error {
	if skipped(name) {
		return nil
	}
	f, err := root.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	l.reread = func() (io.ReadCloser, error) { return root.Open(name) }
	defer func() { l.reread = nil }()
	return l.file(ctx, name, fi.Size(), f)
}

// file takes one regular file of the archive: metadata into memory, every
// other file into the content store, checked against its name's digest
// when it lives under blobs/.
func (l *loader) file(ctx context.Context, name string, size int64, r io.Reader) error {
	if skipped(name) {
		return nil
	}
	if isMeta(name) {
		if size > maxMetaSize {
			return errdefs.Invalid("archive entry %s: %d bytes is too large", name, size)
		}
		data, err := io.ReadAll(io.LimitReader(r, size))
		if err != nil {
			return errdefs.Invalid("reading archive entry %s: %w", name, err)
		}
		l.meta[name] = data
		return nil
	}
	expected, err := nameDigest(name)
	if err != nil {
		return err
	}
	er := &errReader{r: r}
	info, err := l.take(ctx, name, er, expected, size)
	if err != nil {
		if errors.Is(er.err, io.ErrUnexpectedEOF) {
			return errdefs.Invalid("reading archive entry %s: truncated archive: %w", name, er.err)
		}
		if er.err != nil {
			return errdefs.Invalid("reading archive entry %s: %w", name, er.err)
		}
		return fmt.Errorf("archive entry %s: %w", name, err)
	}
	l.files[name] = info.Digest
	l.blobs[info.Digest] = true
	l.sizes[info.Digest] = info.Size
	return nil
}

func (l *loader) link(name, target string) error {
	target, err := cleanName(target)
	if err != nil {
		return fmt.Errorf("link %s: %w", name, err)
	}
	l.links[name] = target
	return nil
}

// lookup returns the blob stored for an archive path, following links.
func (l *loader) lookup(name string) (digest.Digest, bool) {
	name, err := cleanName(name)
	if err != nil {
		return "", false
	}
	for range maxLinkDepth {
		if d, ok := l.files[name]; ok {
			return d, true
		}
		target, ok := l.links[name]
		if !ok {
			return "", false
		}
		name = target
	}
	return "", false
}

// cleanName normalises an archive path ("./a//b" -> "a/b") and rejects
// absolute names and names climbing out of the archive with "..".
func cleanName(name string) (string, error) {
	if path.IsAbs(name) {
		return "", errdefs.Invalid("archive entry %q: absolute path", name)
	}
	for _, part := range strings.Split(name, "/") {
		if part == ".." {
			return "", errdefs.Invalid("archive entry %q: path escapes the archive", name)
		}
	}
	name = path.Clean(name)
	if name == "." {
		return "", nil
	}
	return name, nil
}

func isMeta(name string) bool {
	switch name {
	case manifestFile, indexFile, layoutFile, repositoriesFile:
		return true
	}
	return false
}

// skipped reports the v1 metadata files of classic archives, which no
// loader needs (configs and manifest.json say everything).
func skipped(name string) bool {
	dir, base := path.Split(name)
	return dir != "" && !strings.HasPrefix(dir, blobsDir+"/") && (base == "json" || base == "VERSION")
}

// nameDigest returns the digest a blobs/<alg>/<hex> name promises, "" for
// files outside blobs/.
func nameDigest(name string) (digest.Digest, error) {
	rest, ok := strings.CutPrefix(name, blobsDir+"/")
	if !ok {
		return "", nil
	}
	alg, enc, ok := strings.Cut(rest, "/")
	d := digest.NewDigestFromEncoded(digest.Algorithm(alg), enc)
	if !ok || d.Validate() != nil {
		return "", errdefs.Invalid("archive entry %s: not named blobs/<algorithm>/<digest>", name)
	}
	return d, nil
}

// errReader remembers the error of the archive stream, so that a failed
// ingest can tell a bad archive (errdefs.ErrInvalid) from a store failure.
type errReader struct {
	r   io.Reader
	err error
}

func (e *errReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF {
		e.err = err
	}
	return n, err
}
