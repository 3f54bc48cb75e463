package layer

import (
	"crypto/sha256"
	"fmt"
	"hash"
	"io"
	"sync"

	"github.com/opencontainers/go-digest"
)

// The feed holds up to feedChunks chunks of feedChunk bytes.
const (
	feedChunk  = 256 << 10
	feedChunks = 8
)

// feed is a pipe with a few chunks of buffer: Write copies and returns at
// once while a chunk is free; the reader ranges over full and puts each
// chunk back on free.
type feed struct {
	full chan []byte
	free chan []byte
}

func newFeed() *feed {
	f := &feed{
		full: make(chan []byte, feedChunks),
		free: make(chan []byte, feedChunks),
	}
	for range feedChunks {
		f.free <- make([]byte, feedChunk)
	}
	return f
}

func (f *feed) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		buf := <-f.free
		m := copy(buf[:cap(buf)], p)
		p = p[m:]
		f.full <- buf[:m] // never blocks: a chunk was free
	}
	return n, nil
}

// close ends the stream for the reader.
func (f *feed) close() { close(f.full) }

// A hasher computes a layer's diffID (and, when staging, writes the copy
// of its tar) on a goroutine of its own, from a feed: SHA-256 is the
// costliest step per byte of Register, and off the reading goroutine it
// runs beside the tar parsing and the file writes instead of before them.
type hasher struct {
	feed *feed
	h    hash.Hash
	n    int64
	copy io.Writer // nil: no copy
	err  error     // the copy's first write error
	done chan struct{}
	once sync.Once
}

func startHasher(tarCopy io.Writer) *hasher {
	hs := &hasher{feed: newFeed(), h: sha256.New(), copy: tarCopy, done: make(chan struct{})}
	go hs.run()
	return hs
}

func (hs *hasher) run() {
	defer close(hs.done)
	f := hs.feed
	for buf := range f.full {
		hs.h.Write(buf)
		hs.n += int64(len(buf))
		if hs.copy != nil && hs.err == nil {
			if _, err := hs.copy.Write(buf); err != nil {
				hs.err = fmt.Errorf("copying the layer's tar: %w", err)
			}
		}
		f.free <- buf[:cap(buf)]
	}
}

// Write hands p to the hasher; it returns once p is copied.
func (hs *hasher) Write(p []byte) (int, error) { return hs.feed.Write(p) }

// finish waits for the hasher and returns the digest and length of all
// that was written, or the copy's error. It may be called again (a
// deferred call after the real one).
func (hs *hasher) finish() (digest.Digest, int64, error) {
	hs.once.Do(func() { hs.feed.close() })
	<-hs.done
	return digest.NewDigest(digest.SHA256, hs.h), hs.n, hs.err
}
