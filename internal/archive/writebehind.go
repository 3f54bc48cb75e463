package archive

import (
	"archive/tar"
	"io"
	"sync"

	"golang.org/x/sys/unix"
)

// Regular files are finished behind Apply's back: the tar stream must be
// read in order, but once a file is created, writing its content into the
// page cache, chown, chmod, xattrs, times and close need not hold up the
// next header. A worker goroutine does that part, so reading (and decompressing)
// overlaps with writing. The worker only ever uses the descriptors it is
// handed, never a path, so it can reach nothing the tar could not; every
// name-level step (create, link, remove) stays in Apply's goroutine, in tar
// order.
//
// Content travels in slabs: small files are packed one after another into
// the current slab, larger ones take whole slabs chunk by chunk. A slab
// goes back to the free list when the worker has written the last job that
// uses it, which also bounds the memory in flight.
const (
	slabSize  = 1 << 20
	slabCount = 8
	jobQueue  = 256 // also bounds the descriptors held open by queued jobs
)

// writeBackMin is the size from which a file's write-back is started as
// soon as it is written (see run): many small writes-back would cost more
// than the one sync that the layer store does anyway.
const writeBackMin = 64 << 10

// fileMeta is what a regular file gets after its content.
type fileMeta struct {
	uid, gid     int
	mode         uint32
	chown, chmod bool
	times        [2]unix.Timespec
	hdr          *tar.Header // for its xattrs; nil if it has none
}

type job struct {
	fd      int // -1: the job only returns a slab
	name    string
	data    []byte
	finish  bool // after data: restore metadata and close fd
	meta    fileMeta
	release []byte // a slab to return once this job is done

	writeBack bool // start the write-back when finished (writeBackMin)
}

type writeBehind struct {
	jobs chan job
	free chan []byte
	done chan struct{}
	mu   sync.Mutex
	err  error // the worker's first error

	slab []byte // the slab being filled, owned by Apply's goroutine
	off  int
}

func startWriteBehind() *writeBehind {
	w := &writeBehind{
		jobs: make(chan job, jobQueue),
		free: make(chan []byte, slabCount),
		done: make(chan struct{}),
	}
	for range slabCount {
		w.free <- make([]byte, slabSize)
	}
	go w.run()
	return w
}

func (w *writeBehind) run() {
	defer close(w.done)
	for j := range w.jobs {
		if j.fd >= 0 {
			if w.failed() == nil {
				w.setErr(j.do())
			}
			if j.finish {
				if j.writeBack {
					// Start writing the file back now, without waiting:
					// the layer store syncs the file system before it
					// commits, and that sync then waits for little
					// instead of for everything the unpack wrote.
					unix.SyncFileRange(j.fd, 0, 0, unix.SYNC_FILE_RANGE_WRITE)
				}
				unix.Close(j.fd)
			}
		}
		if j.release != nil {
			w.free <- j.release
		}
	}
}

func (w *writeBehind) setErr(err error) {
	if err == nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err == nil {
		w.err = err
	}
}

// failed returns the worker's first error, if any.
func (w *writeBehind) failed() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// wait lets the worker finish every queued job and returns its first error.
func (w *writeBehind) wait() error {
	if w.slab != nil {
		w.jobs <- job{fd: -1, release: w.slab}
		w.slab = nil
	}
	close(w.jobs)
	<-w.done
	return w.failed()
}

func (j *job) do() error {
	if err := writeAll(j.fd, j.data); err != nil {
		return entryErr(j.name, "writing file", err)
	}
	if !j.finish {
		return nil
	}
	m := &j.meta
	if m.chown {
		if err := unix.Fchown(j.fd, m.uid, m.gid); err != nil {
			return entryErr(j.name, "changing owner", err)
		}
	}
	if m.chmod {
		if err := unix.Fchmod(j.fd, m.mode); err != nil {
			return entryErr(j.name, "changing mode", err)
		}
	}
	if m.hdr != nil {
		if err := setXattrsFd(j.fd, m.hdr); err != nil {
			return entryErr(j.name, "setting xattrs", err)
		}
	}
	if err := setTimes(j.fd, "", m.times); err != nil {
		return entryErr(j.name, "setting times", err)
	}
	return nil
}

// file reads the size bytes of content of the file open as fd from r and
// queues its writing and finishing. The worker owns fd from here on.
func (w *writeBehind) file(fd int, name string, r io.Reader, size int64, meta fileMeta) (int64, error) {
	var read int64
	for {
		n := int(min(size-read, slabSize))
		if w.slab == nil || w.off+n > len(w.slab) {
			w.newSlab()
		}
		data := w.slab[w.off : w.off+n]
		m, err := io.ReadFull(r, data)
		read += int64(m)
		last := read == size || err != nil
		j := job{fd: fd, name: name, data: data[:m], finish: last, meta: meta, writeBack: size >= writeBackMin}
		w.off += m
		if n == slabSize {
			j.release, w.slab = w.slab, nil // a whole-slab chunk: done with it
		}
		w.jobs <- j
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return read, readErr(name, err)
		}
		if last {
			return read, nil
		}
	}
}

// newSlab hands the current slab to the worker and takes a free one,
// waiting for the worker if all are in flight.
func (w *writeBehind) newSlab() {
	if w.slab != nil {
		w.jobs <- job{fd: -1, release: w.slab}
	}
	w.slab, w.off = <-w.free, 0
}
