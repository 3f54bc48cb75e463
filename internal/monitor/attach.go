package monitor

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/strata-containers/strata/internal/errdefs"
)

// The attach protocol, spoken over <bundle>/attach.sock: frames of one
// kind byte, a big-endian uint32 length and the payload.
//
//	client → monitor  'i' stdin bytes   'c' stdin ended (closes the container's
//	                  stdin if StdinOnce)   'r' resize: rows, cols (uint16 each)
//	monitor → client  'o' stdout bytes (all of a terminal's output)
//	                  'e' stderr bytes      'x' the workload exited: code (int32)
//
// A client detaches by closing its connection; the monitor closes every
// connection after the 'x' frame of the run the client attached to.
const (
	frameStdin    = 'i'
	frameStdinEnd = 'c'
	frameResize   = 'r'
	frameStdout   = 'o'
	frameStderr   = 'e'
	frameExit     = 'x'

	maxFrame     = 1 << 20
	attachSocket = "attach.sock"
)

// ErrNotAttachable: no monitor listens for the container (it is not
// running). Errors carrying it are of class errdefs.ErrConflict.
var ErrNotAttachable = errors.New("container is not running")

func writeFrame(w io.Writer, kind byte, p []byte) error {
	buf := make([]byte, 5+len(p))
	buf[0] = kind
	binary.BigEndian.PutUint32(buf[1:5], uint32(len(p)))
	copy(buf[5:], p)
	_, err := w.Write(buf)
	return err
}

func readFrame(r *bufio.Reader) (byte, []byte, error) {
	var hdr [5]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, nil, err
	}
	n := binary.BigEndian.Uint32(hdr[1:])
	if n > maxFrame {
		return 0, nil, fmt.Errorf("attach frame of %d bytes is too large", n)
	}
	p := make([]byte, n)
	if _, err := io.ReadFull(r, p); err != nil {
		return 0, nil, io.ErrUnexpectedEOF
	}
	return hdr[0], p, nil
}

// withSocketAddr names bundle/attach.sock through an fd of the bundle, as
// a unix socket path is limited to 107 bytes and a bundle path may be
// longer.
func withSocketAddr(bundle string, do func(*unix.SockaddrUnix) error) error {
	dfd, err := unix.Open(bundle, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(dfd)
	return do(&unix.SockaddrUnix{Name: "/proc/self/fd/" + strconv.Itoa(dfd) + "/" + attachSocket})
}

// Conn is a client's connection to a container's monitor. Its Write
// sends stdin; it is safe for one reader (Copy) and several writers.
type Conn struct {
	f   *os.File
	r   *bufio.Reader
	wmu sync.Mutex
}

// Dial connects to the monitor of the container whose bundle is given.
func Dial(ctx context.Context, bundle string) (*Conn, error) {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	err = withSocketAddr(bundle, func(a *unix.SockaddrUnix) error { return unix.Connect(fd, a) })
	if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ECONNREFUSED) {
		unix.Close(fd)
		return nil, errdefs.Conflict("attaching to %s: %w", filepath.Base(bundle), ErrNotAttachable)
	}
	if err == nil {
		err = unix.SetNonblock(fd, true)
	}
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("attaching to %s: %w", filepath.Base(bundle), err)
	}
	f := os.NewFile(uintptr(fd), "attach")
	context.AfterFunc(ctx, func() { f.SetDeadline(time.Now()) })
	return &Conn{f: f, r: bufio.NewReader(f)}, nil
}

func (c *Conn) send(kind byte, p []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return writeFrame(c.f, kind, p)
}

// Write sends p to the container's stdin.
func (c *Conn) Write(p []byte) (int, error) {
	for off := 0; off < len(p); off += maxFrame {
		if err := c.send(frameStdin, p[off:min(off+maxFrame, len(p))]); err != nil {
			return off, err
		}
	}
	return len(p), nil
}

// CloseStdin says the client's stdin ended.
func (c *Conn) CloseStdin() error { return c.send(frameStdinEnd, nil) }

// Resize sets the container's terminal size.
func (c *Conn) Resize(rows, cols uint16) error {
	var p [4]byte
	binary.BigEndian.PutUint16(p[:2], rows)
	binary.BigEndian.PutUint16(p[2:], cols)
	return c.send(frameResize, p[:])
}

// Copy copies the container's output to stdout and stderr until its
// workload exits, and returns the exit code; exited is false when the
// connection ended without one (the monitor died, or Close was called).
func (c *Conn) Copy(stdout, stderr io.Writer) (code int, exited bool, err error) {
	for {
		kind, p, err := readFrame(c.r)
		if errors.Is(err, io.EOF) || errors.Is(err, os.ErrClosed) {
			return -1, false, nil
		}
		if err != nil {
			return -1, false, err
		}
		switch kind {
		case frameStdout:
			_, err = stdout.Write(p)
		case frameStderr:
			_, err = stderr.Write(p)
		case frameExit:
			if len(p) == 4 {
				return int(int32(binary.BigEndian.Uint32(p))), true, nil
			}
		}
		if err != nil {
			return -1, false, err
		}
	}
}

// Close detaches: the container goes on running.
func (c *Conn) Close() error { return c.f.Close() }
