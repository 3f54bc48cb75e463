package layer

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
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

// recorder is the storage.Packer that writes a layer's tar-split metadata
// while Register unpacks it. It also decides whether the tar can be rebuilt
// from the layer's directory at all: not when the tar changes a file's
// content after writing it (a second entry of the same name, a whiteout or a
// replacing entry over it), nor when Apply keeps content somewhere else or
// not at all (sparse files, aufs metadata). For such a layer the metadata is
// dropped and the blob stays the only copy of the tar.
type recorder struct {
	path string
	f    *os.File // nil once closed
	gz   *gzip.Writer
	json storage.Packer

	hdr     *tar.Header // the header parsed from the last segment, for the next file entry
	hdrErr  error
	padding int64 // padding after the previous file's content, at the start of the next segment

	content  map[string]bool // paths whose content the directory must keep
	parents  map[string]bool // directories above those paths
	unusable string          // why the tar cannot be rebuilt; "" while it can
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

// AddEntry records one tar-split entry. It never fails the unpack for a
// tar that cannot be rebuilt; it stops recording instead.
func (r *recorder) AddEntry(e storage.Entry) (int, error) {
	if r.unusable != "" {
		return 0, nil
	}
	switch e.Type {
	case storage.SegmentType:
		r.segment(e.Payload)
	case storage.FileType:
		r.file(&e)
	}
	if r.unusable != "" {
		return 0, nil
	}
	n, err := r.json.AddEntry(e)
	if errors.Is(err, storage.ErrDuplicatePath) {
		r.unusable = fmt.Sprintf("%q appears twice", e.GetName())
		return 0, nil
	}
	if err != nil {
		return n, fmt.Errorf("recording tar-split metadata: %w", err)
	}
	return n, nil
}

// segment parses the header at the end of a raw segment (after the padding
// of the previous file), in the form Apply will see it.
func (r *recorder) segment(payload []byte) {
	r.hdr, r.hdrErr = nil, nil
	if int64(len(payload)) < r.padding {
		return // trailing bytes after the end of the archive
	}
	hdr, err := tar.NewReader(bytes.NewReader(payload[r.padding:])).Next()
	r.padding = 0
	if err != io.EOF {
		r.hdr, r.hdrErr = hdr, err
	}
}

// file checks one file entry against the header before it.
func (r *recorder) file(e *storage.Entry) {
	hdr, err := r.hdr, r.hdrErr
	r.hdr, r.hdrErr = nil, nil
	r.padding = -e.Size & (blockSize - 1)
	switch {
	case err != nil:
		r.unusable = fmt.Sprintf("header of %q: %v", e.GetName(), err)
	case hdr == nil || hdr.Name != e.GetName() || hdr.Size != e.Size:
		r.unusable = fmt.Sprintf("entry %q: tar-split and archive/tar disagree on its header", e.GetName())
	default:
		r.unusable = r.check(hdr)
	}
}

const blockSize = 512

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

// finish flushes the metadata and reports whether it is kept; for a tar
// that cannot be rebuilt, or that tar-split failed to parse (splitErr), it
// removes it and says why.
func (r *recorder) finish(splitErr error) (kept bool, why string, err error) {
	if err := r.close(); err != nil {
		return false, "", err
	}
	if splitErr != nil && r.unusable == "" {
		r.unusable = "tar-split cannot parse it: " + splitErr.Error()
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

// sizePutter is the storage.FilePutter of Register: file contents are in
// the layer's directory already, so it only counts them. It records no
// per-file CRC-64 (tar-split's usual payload): the rebuild checks the whole
// stream against the diffID anyway (see rebuild), and the CRC cost Register
// as much CPU as the diffID's SHA-256.
type sizePutter struct{ buf []byte }

func newSizePutter() *sizePutter { return &sizePutter{buf: make([]byte, 256<<10)} }

func (p *sizePutter) Put(_ string, r io.Reader) (int64, []byte, error) {
	var n int64
	for {
		m, err := r.Read(p.buf)
		n += int64(m)
		if err == io.EOF {
			return n, nil, nil
		}
		if err != nil {
			return n, nil, err
		}
	}
}
