package logs

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
)

// follower delivers what is appended to a log until told to stop. It
// sleeps on inotify (modify, rotation) and wakes at least every
// pollInterval, so a missed event costs latency, never data.
type follower struct {
	path    string
	f       *os.File // nil until the log exists
	pending []byte
	done    <-chan struct{}
}

const pollInterval = 250 * time.Millisecond

func (fw *follower) run(ctx context.Context, fn func(Entry) error) error {
	defer func() {
		if fw.f != nil {
			fw.f.Close()
		}
	}()
	wake, err := newWaker(ctx, fw.path, fw.done)
	if err != nil {
		return err
	}
	defer wake.close()
	stopping := false
	for {
		if err := fw.drain(ctx, fn); err != nil {
			return err
		}
		if stopping {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-fw.done:
			// Deliver what was written before the writer stopped.
			stopping = true
			wake.unwatch()
			continue
		default:
		}
		if err := wake.wait(); err != nil {
			return err
		}
	}
}

// drain reads the current file to its end and, if the log was rotated
// meanwhile, moves on to the new file.
func (fw *follower) drain(ctx context.Context, fn func(Entry) error) error {
	for {
		if fw.f == nil {
			f, err := os.Open(fw.path)
			if errors.Is(err, os.ErrNotExist) {
				return nil
			}
			if err != nil {
				return fmt.Errorf("following log %s: %w", fw.path, err)
			}
			fw.f, fw.pending = f, nil
		}
		var err error
		fw.pending, err = readEntries(ctx, bufio.NewReader(fw.f), fw.pending, fn)
		if err != nil {
			return err
		}
		if !fw.rotated() {
			return nil
		}
		fw.f.Close()
		fw.f = nil
	}
}

// rotated reports whether path now names another file than the open one.
func (fw *follower) rotated() bool {
	var open, cur unix.Stat_t
	if unix.Fstat(int(fw.f.Fd()), &open) != nil {
		return false
	}
	if unix.Stat(fw.path, &cur) != nil {
		return false
	}
	return open.Ino != cur.Ino || open.Dev != cur.Dev
}

// waker blocks until the log's directory changes, done closes, ctx ends,
// or the poll interval passes. poll(2) cannot watch a channel, so a
// goroutine turns done and ctx into a write on an eventfd.
type waker struct {
	fd, event int
	wd        int // the directory's watch, -1 once removed
	stop      chan struct{}
	exited    chan struct{} // the goroutine is gone: the fds may close
}

func newWaker(ctx context.Context, path string, done <-chan struct{}) (*waker, error) {
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return nil, fmt.Errorf("following log %s: %w", path, err)
	}
	// The directory, not the file: it sees creation and rotation too.
	wd, err := unix.InotifyAddWatch(fd, filepath.Dir(path), unix.IN_MODIFY|unix.IN_CREATE|unix.IN_MOVED_TO|unix.IN_CLOSE_WRITE)
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("following log %s: %w", path, err)
	}
	event, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("following log %s: %w", path, err)
	}
	w := &waker{fd: fd, event: event, wd: wd, stop: make(chan struct{}), exited: make(chan struct{})}
	go func() {
		defer close(w.exited)
		select {
		case <-done:
		case <-ctx.Done():
		case <-w.stop:
			return
		}
		unix.Write(event, []byte{1, 0, 0, 0, 0, 0, 0, 0})
	}()
	return w, nil
}

func (w *waker) wait() error {
	fds := []unix.PollFd{{Fd: int32(w.fd), Events: unix.POLLIN}, {Fd: int32(w.event), Events: unix.POLLIN}}
	_, err := unix.Poll(fds, int(pollInterval/time.Millisecond))
	if err != nil && !errors.Is(err, unix.EINTR) {
		return err
	}
	if fds[0].Revents != 0 {
		var buf [4096]byte
		for {
			if _, err := unix.Read(w.fd, buf[:]); err != nil {
				break
			}
		}
	}
	return nil
}

// unwatch removes the watch once the writer is done. The kernel frees a
// watch after an SRCU grace period (6-20 ms on a busy host), and the last
// close of the instance waits for that; removed here, before the final
// drain, the grace period runs while the caller goes on (run --rm: the
// removal), and the close, even the one at the process's exit, finds it
// over or nearly so.
func (w *waker) unwatch() {
	if w.wd >= 0 {
		_, _ = unix.InotifyRmWatch(w.fd, uint32(w.wd))
		w.wd = -1
	}
}

func (w *waker) close() {
	close(w.stop)
	<-w.exited
	// Closing an inotify instance waits for an SRCU grace period while the
	// kernel frees its watches (6-20 ms on a busy host): off the path of
	// whatever the follower's caller does next (run --rm: the removal).
	go unix.Close(w.fd)
	unix.Close(w.event)
}
