package archive

import (
	"archive/tar"
	"io"
)

// A Tap watches the tar that Apply parses, so that a caller can keep a
// record of the stream (the layer store's tar-split metadata) without
// parsing it a second time. Apply calls it from its own goroutine, in
// stream order: Consumed with every byte the tar reader took, up to the
// end of the stream, and Header with each header right after its bytes
// (its content follows in the next Consumed calls: hdr.Size bytes for all
// but sparse entries). A Tap cannot fail the apply.
type Tap interface {
	Consumed(p []byte)
	Header(hdr *tar.Header)
}

// tapReader hands what the tar reader reads to a Tap.
type tapReader struct {
	r   io.Reader
	tap Tap
}

func (t tapReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	t.tap.Consumed(p[:n])
	return n, err
}

// tapWriter hands the bytes after the tar's end to a Tap.
type tapWriter struct{ tap Tap }

func (t tapWriter) Write(p []byte) (int, error) {
	t.tap.Consumed(p)
	return len(p), nil
}

// tapped puts opts.Tap on the stream the tar reader reads, and returns
// where the bytes past the end of the archive go.
func tapped(r io.Reader, opts ApplyOptions) (io.Reader, io.Writer) {
	if opts.Tap == nil {
		return r, io.Discard
	}
	return tapReader{r: r, tap: opts.Tap}, tapWriter{tap: opts.Tap}
}
