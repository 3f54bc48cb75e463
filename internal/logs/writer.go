// Package logs is the json-file log driver: it writes a container's output
// in Docker's json-file format, rotates it, and reads it back (tail,
// since/until, follow).
//
// Each line of output becomes one JSON object on one line:
//
//	{"log":"hello\n","stream":"stdout","time":"2026-11-22T14:14:19.123456789Z"}
//
// A line longer than 16 KiB is cut into entries without the trailing "\n"
// (Docker's partial messages); output that ends without a newline is
// flushed as such when its stream closes.
//
// On disk, for a log at path with MaxFile n:
//
//	path        the current file, appended to by exactly one Writer
//	path.1 ...  rotated files, path.1 the newest, at most n-1 of them
//
// Invariant: every complete line of every file is a whole entry, because a
// Writer writes each entry with one write(2) to an O_APPEND file and rotates
// only between entries (a rename, so a reader that holds the old file keeps
// reading it to its end). Readers need no lock. A tail (Tail >= 0) is read
// backwards from the end, newest file first, so it costs the entries asked
// for rather than the whole log (tail.go).
package logs

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"time"
)

// Entry is one log message.
type Entry struct {
	Log    string    `json:"log"`
	Stream string    `json:"stream"`
	Time   time.Time `json:"time"`
}

// WriterOptions are the log-opts of the json-file driver.
type WriterOptions struct {
	MaxSize int64 // rotate when the file reaches this size; 0 never rotates
	MaxFile int   // files kept, the current one included (>= 1)
}

// maxLine is where a line without a newline is cut, as Docker does.
const maxLine = 16 * 1024

// Writer appends entries to a log file. It is safe for concurrent use by
// the streams it hands out.
type Writer struct {
	path string
	opts WriterOptions
	now  func() time.Time

	mu   sync.Mutex
	f    *os.File
	size int64
}

// NewWriter opens (creating if needed) the log at path for appending.
func NewWriter(path string, opts WriterOptions) (*Writer, error) {
	if opts.MaxFile < 1 {
		opts.MaxFile = 1
	}
	w := &Writer{path: path, opts: opts, now: time.Now}
	if err := w.open(); err != nil {
		return nil, err
	}
	return w, nil
}

func (w *Writer) open() error {
	f, err := os.OpenFile(w.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return fmt.Errorf("opening log %s: %w", w.path, err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("opening log %s: %w", w.path, err)
	}
	w.f, w.size = f, st.Size()
	return nil
}

// Close closes the log file; streams must be closed first.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.f.Close()
}

// Write appends one entry.
func (w *Writer) Write(e Entry) error {
	line, err := json.Marshal(e)
	if err != nil {
		return err
	}
	line = append(line, '\n')
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.opts.MaxSize > 0 && w.size > 0 && w.size+int64(len(line)) > w.opts.MaxSize {
		if err := w.rotate(); err != nil {
			return err
		}
	}
	n, err := w.f.Write(line)
	w.size += int64(n)
	if err != nil {
		return fmt.Errorf("writing log %s: %w", w.path, err)
	}
	return nil
}

// rotate shifts path.i to path.i+1, dropping the oldest, and starts a new
// current file.
func (w *Writer) rotate() error {
	if err := w.f.Close(); err != nil {
		return err
	}
	if w.opts.MaxFile == 1 {
		if err := os.Remove(w.path); err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("rotating log %s: %w", w.path, err)
		}
		return w.open()
	}
	for i := w.opts.MaxFile - 1; i >= 1; i-- {
		from := w.path
		if i > 1 {
			from += "." + strconv.Itoa(i-1)
		}
		err := os.Rename(from, w.path+"."+strconv.Itoa(i))
		if err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("rotating log %s: %w", w.path, err)
		}
	}
	return w.open()
}

// Stream returns a writer that turns what is written to it into entries of
// the named stream ("stdout", "stderr"), one per line. Close flushes a last
// line that has no newline.
func (w *Writer) Stream(name string) io.WriteCloser {
	return &stream{w: w, name: name}
}

type stream struct {
	w    *Writer
	name string
	buf  []byte
}

func (s *stream) Write(p []byte) (int, error) {
	s.buf = append(s.buf, p...)
	for {
		i := bytes.IndexByte(s.buf, '\n')
		if i < 0 && len(s.buf) < maxLine {
			return len(p), nil
		}
		end := i + 1
		if i < 0 || end > maxLine {
			end = maxLine
		}
		if err := s.emit(s.buf[:end]); err != nil {
			return 0, err
		}
		s.buf = s.buf[end:]
	}
}

func (s *stream) emit(b []byte) error {
	return s.w.Write(Entry{Log: string(b), Stream: s.name, Time: s.w.now().UTC()})
}

func (s *stream) Close() error {
	if len(s.buf) == 0 {
		return nil
	}
	err := s.emit(s.buf)
	s.buf = nil
	return err
}
