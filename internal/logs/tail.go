package logs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"syscall"
)

// Reading the last entries (--tail N) reads backwards, block by block,
// from the end of the current file and then of path.1, path.2, ... (newer
// to older), and stops once N entries in the time bounds were found, or
// an entry older than Since: the cost is that of the entries asked for,
// not of the whole log. A rotation while this reads is detected by inode:
// the file read as the current one may reappear as path.1 and is skipped.

// backBlock is how much one backward read takes.
const backBlock = 64 << 10

// readTail is Read for opts.Tail >= 0.
func readTail(ctx context.Context, path string, opts ReadOptions, fn func(Entry) error) error {
	f, err := os.Open(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("reading log %s: %w", path, err)
	}
	var end int64
	var newestFirst []Entry
	seen := map[[2]uint64]bool{}
	done := opts.Tail == 0
	if f != nil {
		defer func() {
			if f != nil {
				f.Close()
			}
		}()
		seen[fileID(f)] = true
		if end, err = completeEnd(f); err != nil {
			return fmt.Errorf("reading log %s: %w", path, err)
		}
		if !done {
			done, err = collectBack(ctx, f, end, opts, &newestFirst)
			if err != nil {
				return fmt.Errorf("reading log %s: %w", path, err)
			}
		}
	}
	for i := 1; !done; i++ {
		done, err = collectRotated(ctx, path+"."+strconv.Itoa(i), opts, seen, &newestFirst)
		if err != nil {
			return err
		}
	}
	slices.Reverse(newestFirst)
	if err := flushTail(newestFirst, fn); err != nil || !opts.Follow {
		return err
	}
	if f != nil {
		// The follower goes on from the end of the last complete entry.
		if _, err := f.Seek(end, io.SeekStart); err != nil {
			return fmt.Errorf("reading log %s: %w", path, err)
		}
	}
	fw := &follower{path: path, f: f, done: opts.Done}
	f = nil // the follower closes it
	return fw.run(ctx, func(e Entry) error {
		if !opts.wants(e) {
			return nil
		}
		return fn(e)
	})
}

// collectRotated reads rotated file p backwards; done is true when it is
// missing (no older files) or the entries wanted were found.
func collectRotated(ctx context.Context, p string, opts ReadOptions, seen map[[2]uint64]bool, out *[]Entry) (bool, error) {
	f, err := os.Open(p)
	if errors.Is(err, os.ErrNotExist) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("reading log %s: %w", p, err)
	}
	defer f.Close()
	id := fileID(f)
	if seen[id] {
		return false, nil // the current file, rotated while we read it
	}
	seen[id] = true
	end, err := completeEnd(f)
	if err == nil {
		var done bool
		done, err = collectBack(ctx, f, end, opts, out)
		if err == nil {
			return done, nil
		}
	}
	return false, fmt.Errorf("reading log %s: %w", p, err)
}

// collectBack adds the entries of r before end to out, newest first,
// until out holds opts.Tail of them (done) or an entry is older than
// opts.Since (done: older files are older still).
func collectBack(ctx context.Context, r io.ReaderAt, end int64, opts ReadOptions, out *[]Entry) (done bool, err error) {
	err = linesBackward(ctx, r, end, func(line []byte) bool {
		var e Entry
		if json.Unmarshal(line, &e) != nil {
			return true // a line torn by a crash
		}
		if !opts.Since.IsZero() && e.Time.Before(opts.Since) {
			done = true
			return false
		}
		if opts.wants(e) {
			*out = append(*out, e)
		}
		done = len(*out) >= opts.Tail
		return !done
	})
	return done, err
}

// linesBackward calls fn with each complete line of r before end (which
// must be 0 or just after a newline), last line first, until fn returns
// false. A line is passed with its newline, and only until fn returns.
func linesBackward(ctx context.Context, r io.ReaderAt, end int64, fn func([]byte) bool) error {
	var carry []byte // the lines after pos not yet passed, whole lines only at their end
	pos := end
	for pos > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := min(int64(backBlock), pos)
		pos -= n
		buf := make([]byte, int(n)+len(carry))
		if _, err := r.ReadAt(buf[:n], pos); err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		copy(buf[n:], carry)
		for len(buf) > 0 {
			i := bytes.LastIndexByte(buf[:len(buf)-1], '\n')
			if i < 0 && pos > 0 {
				break // the line starts in an earlier block
			}
			if !fn(buf[i+1:]) {
				return nil
			}
			buf = buf[:i+1]
		}
		carry = buf
	}
	return nil
}

// completeEnd is the offset just after the last newline of f: what
// follows is an entry being written.
func completeEnd(f *os.File) (int64, error) {
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	size := fi.Size()
	buf := make([]byte, backBlock)
	for pos := size; pos > 0; {
		n := min(int64(backBlock), pos)
		pos -= n
		if _, err := f.ReadAt(buf[:n], pos); err != nil && !errors.Is(err, io.EOF) {
			return 0, err
		}
		if i := bytes.LastIndexByte(buf[:n], '\n'); i >= 0 {
			return pos + int64(i) + 1, nil
		}
	}
	return 0, nil
}

// fileID is the device and inode of f, which a rename keeps.
func fileID(f *os.File) [2]uint64 {
	fi, err := f.Stat()
	if err != nil {
		return [2]uint64{}
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return [2]uint64{}
	}
	return [2]uint64{st.Dev, st.Ino}
}
