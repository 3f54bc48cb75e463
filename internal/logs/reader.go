package logs

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"
)

// ReadOptions select the entries Read delivers.
type ReadOptions struct {
	// Tail is the number of entries to deliver from the end of what is
	// already written; negative means all.
	Tail int
	// Since and Until bound the entries' times; zero means unbounded.
	Since, Until time.Time
	// Follow keeps delivering new entries after the existing ones, until
	// Done is closed (then what was written before is delivered and Read
	// returns) or ctx ends.
	Follow bool
	Done   <-chan struct{}
}

func (o ReadOptions) wants(e Entry) bool {
	if !o.Since.IsZero() && e.Time.Before(o.Since) {
		return false
	}
	return o.Until.IsZero() || !e.Time.After(o.Until)
}

// Read calls fn with the entries of the log at path, oldest first, across
// its rotated files. A log that does not exist yet has no entries. With
// opts.Tail >= 0 only the end of the log is read (tail.go).
func Read(ctx context.Context, path string, opts ReadOptions, fn func(Entry) error) error {
	if opts.Tail >= 0 {
		return readTail(ctx, path, opts, fn)
	}
	deliver := func(e Entry) error {
		if !opts.wants(e) {
			return nil
		}
		return fn(e)
	}
	for i := rotatedCount(path); i >= 1; i-- {
		if err := readFile(ctx, path+"."+strconv.Itoa(i), deliver); err != nil {
			return err
		}
	}
	f, err := os.Open(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("reading log %s: %w", path, err)
	}
	var pending []byte
	if f != nil {
		defer func() { f.Close() }()
		if pending, err = readEntries(ctx, bufio.NewReader(f), nil, deliver); err != nil {
			return err
		}
	}
	if !opts.Follow {
		return nil
	}
	fw := &follower{path: path, f: f, pending: pending, done: opts.Done}
	f = nil // the follower closes it
	return fw.run(ctx, func(e Entry) error {
		if !opts.wants(e) {
			return nil
		}
		return fn(e)
	})
}

func flushTail(tail []Entry, fn func(Entry) error) error {
	for _, e := range tail {
		if err := fn(e); err != nil {
			return err
		}
	}
	return nil
}

// rotatedCount is the number of the oldest rotated file present.
func rotatedCount(path string) int {
	n := 0
	for {
		if _, err := os.Stat(path + "." + strconv.Itoa(n+1)); err != nil {
			return n
		}
		n++
	}
}

func readFile(ctx context.Context, path string, fn func(Entry) error) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil // rotated away while we read
	}
	if err != nil {
		return fmt.Errorf("reading log %s: %w", path, err)
	}
	defer f.Close()
	_, err = readEntries(ctx, bufio.NewReader(f), nil, fn)
	return err
}

// readEntries delivers the complete lines of r, after pending (the start
// of a line an earlier call stopped in), and returns the incomplete last
// line (a write in progress) for a follower to complete.
func readEntries(ctx context.Context, r *bufio.Reader, pending []byte, fn func(Entry) error) ([]byte, error) {
	for {
		if err := ctx.Err(); err != nil {
			return pending, err
		}
		chunk, err := r.ReadBytes('\n')
		line := append(pending, chunk...)
		pending = nil
		if errors.Is(err, io.EOF) {
			return line, nil
		}
		if err != nil {
			return line, err
		}
		var e Entry
		if json.Unmarshal(line, &e) != nil {
			continue // a line torn by a crash: skip it, as Docker does
		}
		if err := fn(e); err != nil {
			return nil, err
		}
	}
}
