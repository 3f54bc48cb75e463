package archive

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/strata-containers/strata/internal/errdefs"
)

var (
	gzipMagic = []byte{0x1f, 0x8b}
	zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}
)

// String returns "none", "gzip" or "zstd".
func (c Compression) String() string {
	switch c {
	case Uncompressed:
		return "none"
	case Gzip:
		return "gzip"
	case Zstd:
		return "zstd"
	}
	return fmt.Sprintf("compression(%d)", int(c))
}

// Decompress sniffs r and returns a reader of the decompressed stream.
// Decompression runs ahead in its own goroutine so that it overlaps with
// whatever consumes the stream (unpacking writes files meanwhile); an
// uncompressed stream is only buffered.
//
// Damage to the compressed stream (a bad checksum, a truncation) reads as an
// errdefs.ErrInvalid error; an error of r itself is passed on as it is.
// Close stops the goroutine and waits for it, so r is not read after Close
// returns; the caller still owns r and closes it.
func Decompress(r io.Reader) (io.ReadCloser, Compression, error) {
	src := &sourceReader{r: r}
	br := bufio.NewReaderSize(src, 256<<10)
	magic, err := br.Peek(len(zstdMagic))
	if err != nil && err != io.EOF {
		return nil, Uncompressed, fmt.Errorf("sniffing layer compression: %w", err)
	}
	switch {
	case bytes.HasPrefix(magic, gzipMagic):
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, Gzip, src.classify("gzip", err)
		}
		return startPipe(zr, func() {}, src, "gzip"), Gzip, nil
	case bytes.HasPrefix(magic, zstdMagic):
		zr, err := zstd.NewReader(br)
		if err != nil {
			return nil, Zstd, fmt.Errorf("starting zstd decoder: %w", err)
		}
		return startPipe(zr, zr.Close, src, "zstd"), Zstd, nil
	}
	return bufReadCloser{br}, Uncompressed, nil
}

// bufReadCloser is an uncompressed stream: already buffered, nothing to stop.
type bufReadCloser struct{ *bufio.Reader }

func (bufReadCloser) Close() error { return nil }

// sourceReader remembers the error of the compressed source, to tell it
// apart from the decoder's own complaints about the data.
// The zstd decoder may read it from a goroutine of its own, hence the lock.
type sourceReader struct {
	r   io.Reader
	mu  sync.Mutex
	err error
}

func (s *sourceReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err != nil && err != io.EOF {
		s.mu.Lock()
		s.err = err
		s.mu.Unlock()
	}
	return n, err
}

// classify wraps a decoder error: the source's own failure keeps its class,
// anything else means the compressed data is damaged.
func (s *sourceReader) classify(format string, err error) error {
	s.mu.Lock()
	serr := s.err
	s.mu.Unlock()
	if serr != nil && errors.Is(err, serr) {
		return fmt.Errorf("reading %s layer: %w", format, err)
	}
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return errdefs.Invalid("decompressing %s layer: %w", format, err)
}

// Compress returns a writer that compresses into w. Closing it flushes the
// compressed stream; it does not close w.
func Compress(w io.Writer, c Compression) (io.WriteCloser, error) {
	switch c {
	case Uncompressed:
		return nopWriteCloser{w}, nil
	case Gzip:
		return gzip.NewWriterLevel(w, gzip.DefaultCompression)
	case Zstd:
		return zstd.NewWriter(w, zstd.WithEncoderLevel(zstd.SpeedDefault))
	}
	return nil, errdefs.Invalid("unknown compression %s", c)
}

type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }

// The pipe hands decompressed data from its goroutine to the reader in
// large chunks, a few of them in flight, so the decoder keeps running while
// the consumer writes files.
const (
	pipeChunk  = 1 << 20
	pipeChunks = 4
)

type chunk struct {
	buf []byte
	err error
}

type pipeReader struct {
	full  chan chunk  // filled chunks, in order; the last carries the error
	free  chan []byte // emptied chunks for the goroutine to reuse
	stop  chan struct{}
	done  chan struct{}
	cur   []byte // unread part of the current chunk
	whole []byte // the current chunk, to give back
	err   error
	once  sync.Once
}

func startPipe(dec io.Reader, release func(), src *sourceReader, format string) *pipeReader {
	p := &pipeReader{
		full: make(chan chunk, pipeChunks),
		free: make(chan []byte, pipeChunks),
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
	for range pipeChunks {
		p.free <- make([]byte, pipeChunk)
	}
	go p.run(dec, release, src, format)
	return p
}

func (p *pipeReader) run(dec io.Reader, release func(), src *sourceReader, format string) {
	defer close(p.done)
	defer release()
	for {
		var buf []byte
		select {
		case buf = <-p.free:
		case <-p.stop:
			return
		}
		n, err := fill(dec, buf)
		if err != nil && err != io.EOF {
			err = src.classify(format, err)
		}
		select {
		case p.full <- chunk{buf: buf[:n], err: err}:
		case <-p.stop:
			return
		}
		if err != nil {
			return
		}
	}
}

// fill reads into buf until it is full or dec fails. Unlike io.ReadFull it
// keeps the decoder's own error: a clean io.EOF ends the stream, while
// io.ErrUnexpectedEOF from the decoder means the data was cut short.
func fill(dec io.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := dec.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

func (p *pipeReader) Read(b []byte) (int, error) {
	for len(p.cur) == 0 {
		if p.err != nil {
			return 0, p.err
		}
		if p.whole != nil {
			p.free <- p.whole[:cap(p.whole)]
			p.whole = nil
		}
		c, ok := <-p.full
		if !ok {
			return 0, io.ErrClosedPipe
		}
		p.cur, p.whole, p.err = c.buf, c.buf, c.err
	}
	n := copy(b, p.cur)
	p.cur = p.cur[n:]
	return n, nil
}

// Close stops the decoder and waits for its goroutine to exit.
func (p *pipeReader) Close() error {
	p.once.Do(func() { close(p.stop) })
	<-p.done
	p.cur, p.err = nil, io.ErrClosedPipe
	return nil
}
