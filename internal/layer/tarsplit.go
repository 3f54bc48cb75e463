package layer

import (
	"archive/tar"
	"errors"
	"fmt"
	"os"
	"path"
	"strings"

	"github.com/klauspost/compress/gzip"
	"github.com/vbatts/tar-split/tar/storage"
)

// splitFile holds a layer's tar-split metadata: every byte of its tar except
// file contents (headers, PAX records, padding, end blocks), as gzip'd JSON
// lines (tar-split's storage format), beside diff/ in the layer's directory.
const splitFile = "tar-split.json.gz"

// recorder writes a layer's tar-split metadata while Register unpacks it:
// it is the archive.Tap of that Apply, so the tar is parsed once, by
// archive/tar, and the raw bytes between two entries' contents (padding,
// headers, PAX records) become the segments. It also decides whether the
// tar can be rebuilt from the layer's directory at all: not when the tar
// changes a file's content after writing it (a second entry of the same
// name, a whiteout or a replacing entry over it), nor when Apply keeps
// content somewhere else or not at all (sparse files, aufs metadata). For
// such a layer the metadata is dropped and the blob stays the only copy of
// the tar.
type recorder struct {
	path string
	f    *os.File // nil once closed
	gz   *gzip.Writer
	json storage.Packer

	seg  []byte // raw bytes since the last entry's content
	skip int64  // bytes of the current entry's content still to come

	content  map[string]bool // paths whose content the directory must keep
	parents  map[string]bool // directories above those paths
	unusable string          // why the tar cannot be rebuilt; "" while it can
	err      error           // the metadata could not be written
}

func newRecorder(path string) (*recorder, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("recording tar-split metadata: %w", err)
	}
	// The metadata is mostly headers that repeat field layouts and zero
	// padding: the fastest level already shrinks it several times.
	gz, err := gzip.NewWriterLevel(f, gzip.BestSpeed)
	if err != nil {
		f.Close()
		return nil, err
	}
	return &recorder{
		path: path, f: f, gz: gz, json: storage.NewJSONPacker(gz),
		content: map[string]bool{}, parents: map[string]bool{},
	}, nil
}

func (r *recorder) recording() bool { return r.unusable == "" && r.err == nil }

// Consumed keeps the raw bytes that are not file content.
func (r *recorder) Consumed(p []byte) {
	if !r.recording() {
		return
	}
	n := min(r.skip, int64(len(p)))
	r.skip -= n
	r.seg = append(r.seg, p[n:]...)
}

// Header records the segment that ends with hdr and hdr's file entry. Only
// a regular file's content is ever left out of the segments: any other
// entry with a size makes the tar unusable (see check), so skip is exact
// while recording.
func (r *recorder) Header(hdr *tar.Header) {
	if !r.recording() {
		return
	}
	r.flushSegment()
	if r.unusable = r.check(hdr); !r.recording() {
		return
	}
	e := storage.Entry{Type: storage.FileType, Size: hdr.Size}
	e.SetName(hdr.Name)
	r.add(e)
	r.skip = hdr.Size
}

func (r *recorder) flushSegment() {
	if len(r.seg) > 0 {
		r.add(storage.Entry{Type: storage.SegmentType, Payload: r.seg})
		r.seg = r.seg[:0]
	}
}

func (r *recorder) add(e storage.Entry) {
	_, err := r.json.AddEntry(e)
	if errors.Is(err, storage.ErrDuplicatePath) {
		r.unusable = fmt.Sprintf("%q appears twice", e.GetName())
	} else if err != nil {
		r.err = fmt.Errorf("recording tar-split metadata: %w", err)
	}
}

// check applies Apply's rules to one header and says why it would make the
// directory lose content the tar wrote earlier, or hold content the
// rebuild could not read back; "" if neither.
func (r *recorder) check(hdr *tar.Header) string {
	name := cleanName(hdr.Name)
	parent := parentOf(name)
	base := strings.TrimPrefix(name[len(parent):], "/")
	hasContent := hdr.Size > 0
	switch {
	case name == "" || hdr.Typeflag == tar.TypeXGlobalHeader:
		if hasContent {
			return fmt.Sprintf("entry %q: content outside the layer's tree", hdr.Name)
		}
		return ""
	case r.content[name]:
		return fmt.Sprintf("%q is written again after its content", name)
	case strings.HasPrefix(base, ".wh.") && base != ".wh..wh..opq" && !strings.HasPrefix(base, ".wh..wh."):
		target := path.Join(parent, strings.TrimPrefix(base, ".wh."))
		if r.content[target] || r.parents[target] {
			return fmt.Sprintf("whiteout %q deletes content the layer wrote", name)
		}
	case hdr.Typeflag != tar.TypeDir && r.parents[name]:
		return fmt.Sprintf("%q replaces a directory the layer wrote files in", name)
	}
	if !hasContent {
		return ""
	}
	if why := unkeptContent(hdr, name); why != "" {
		return why
	}
	r.content[name] = true
	for p := parent; p != "" && !r.parents[p]; p = parentOf(p) {
		r.parents[p] = true
	}
	return ""
}

// parentOf returns the parent of a clean relative path, "" at the top.
func parentOf(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[:i]
	}
	return ""
}

// unkeptContent says why the content of a header's file would not be in
// the directory as the tar holds it: "" if it will be.
func unkeptContent(hdr *tar.Header, name string) string {
	switch hdr.Typeflag {
	case tar.TypeReg, tar.TypeCont: // archive/tar reads old tars' '\x00' as TypeReg
	default:
		return fmt.Sprintf("%q: content in an entry of type %q", name, hdr.Typeflag)
	}
	for k := range hdr.PAXRecords {
		if strings.HasPrefix(k, "GNU.sparse.") {
			return fmt.Sprintf("%q: sparse file", name)
		}
	}
	for _, part := range strings.Split(name, "/") {
		if strings.HasPrefix(part, ".wh.") {
			return fmt.Sprintf("%q: content under a whiteout name", name)
		}
	}
	return ""
}

// cleanName is the path, relative to the layer's directory, that Apply
// gives an entry name ("" for the directory itself, or for a name Apply
// refuses).
func cleanName(name string) string {
	if name == "" || name[0] == '/' || strings.IndexByte(name, 0) >= 0 {
		return ""
	}
	p := path.Clean(name)
	if p == "." || p == ".." || strings.HasPrefix(p, "../") {
		return ""
	}
	return p
}

// finish records the bytes after the last entry and flushes the metadata,
// and reports whether it is kept; for a tar that cannot be rebuilt, or
// whose apply failed (applyErr), it removes it and says why.
func (r *recorder) finish(applyErr error) (kept bool, why string, err error) {
	if r.recording() && applyErr == nil {
		r.flushSegment()
	}
	if err := r.close(); err != nil {
		return false, "", err
	}
	if r.err != nil {
		return false, "", r.err
	}
	if applyErr != nil && r.unusable == "" {
		r.unusable = "the apply failed: " + applyErr.Error()
	}
	if r.unusable == "" {
		return true, "", nil
	}
	if err := os.Remove(r.path); err != nil {
		return false, "", fmt.Errorf("dropping tar-split metadata: %w", err)
	}
	return false, r.unusable, nil
}

// close closes the file (defer-safe: a no-op once closed). What a failed
// unpack wrote goes with its tmp directory.
func (r *recorder) close() error {
	if r.f == nil {
		return nil
	}
	err := r.gz.Close()
	if cerr := r.f.Close(); err == nil {
		err = cerr
	}
	r.f = nil
	if err != nil {
		return fmt.Errorf("recording tar-split metadata: %w", err)
	}
	return nil
}
