package monitor

import (
	"bufio"
	"encoding/binary"
	"errors"
	"os"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/strata-containers/strata/internal/logs"
	"github.com/strata-containers/strata/internal/runtime"
)

// hub serves the attach socket: it fans the container's output out to
// every attached client and feeds their input to the container's stdin
// (the pty master, or the write end of a pipe with OpenStdin).
type hub struct {
	cfg      Config
	listener *os.File

	mu      sync.Mutex
	clients map[*os.File]*sync.Mutex // connection → its write lock
	stdin   *os.File                 // nil: the container has no open stdin
	master  *os.File                 // the terminal, with Tty
	size    [2]uint16                // the terminal's last size (rows, cols)
	closed  bool
	// attached is closed when the first client is registered, which a
	// launcher that attaches (Config.WaitAttach) waits for before start.
	attached chan struct{}
}

// listen binds <bundle>/attach.sock, replacing what a dead monitor left.
func listen(cfg Config) (*hub, error) {
	_ = os.Remove(cfg.Bundle + "/" + attachSocket)
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	err = withSocketAddr(cfg.Bundle, func(a *unix.SockaddrUnix) error { return unix.Bind(fd, a) })
	if err == nil {
		err = unix.Listen(fd, 16)
	}
	if err != nil {
		unix.Close(fd)
		return nil, err
	}
	h := &hub{
		cfg: cfg, listener: os.NewFile(uintptr(fd), attachSocket), clients: map[*os.File]*sync.Mutex{},
		size: cfg.ConsoleSize, attached: make(chan struct{}),
	}
	go h.accept()
	return h, nil
}

func (h *hub) accept() {
	rc, err := h.listener.SyscallConn()
	if err != nil {
		return
	}
	for {
		var nfd int
		var aerr error
		err := rc.Read(func(fd uintptr) bool {
			nfd, _, aerr = unix.Accept4(int(fd), unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK)
			return !errors.Is(aerr, unix.EAGAIN)
		})
		if err != nil {
			return // the listener was closed
		}
		if aerr != nil {
			continue
		}
		h.add(os.NewFile(uintptr(nfd), "attach-client"))
	}
}

func (h *hub) add(c *os.File) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		c.Close()
		return
	}
	h.clients[c] = &sync.Mutex{}
	select {
	case <-h.attached:
	default:
		close(h.attached)
	}
	go h.serve(c)
}

// serve reads one client's frames until it goes away.
func (h *hub) serve(c *os.File) {
	r := bufio.NewReader(c)
	for {
		kind, p, err := readFrame(r)
		if err != nil {
			break
		}
		h.input(kind, p)
	}
	h.drop(c)
}

func (h *hub) input(kind byte, p []byte) {
	h.mu.Lock()
	stdin, master := h.stdin, h.master
	h.mu.Unlock()
	switch {
	case kind == frameStdin && stdin != nil:
		_, _ = stdin.Write(p)
	case kind == frameStdinEnd && stdin != nil && master == nil && h.cfg.StdinOnce:
		h.mu.Lock()
		if h.stdin == stdin {
			h.stdin = nil
		}
		h.mu.Unlock()
		stdin.Close()
	case kind == frameResize && len(p) == 4:
		h.mu.Lock()
		h.size = [2]uint16{binary.BigEndian.Uint16(p[:2]), binary.BigEndian.Uint16(p[2:])}
		h.mu.Unlock()
		h.resize(master)
	}
}

// resize gives the terminal the last size a client asked for; a new run's
// terminal gets it before its workload starts.
func (h *hub) resize(master *os.File) {
	h.mu.Lock()
	size := h.size
	h.mu.Unlock()
	if master != nil && size != [2]uint16{} {
		_ = unix.IoctlSetWinsize(int(master.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: size[0], Col: size[1]})
	}
}

func (h *hub) drop(c *os.File) {
	h.mu.Lock()
	delete(h.clients, c)
	h.mu.Unlock()
	c.Close()
}

// broadcast sends a frame to every client; one that cannot take it is
// dropped (a client that stops reading holds up the container's output,
// as a full pipe would).
func (h *hub) broadcast(kind byte, p []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for c, wmu := range h.clients {
		wmu.Lock()
		err := writeFrame(c, kind, p)
		wmu.Unlock()
		if err != nil {
			delete(h.clients, c)
			c.Close()
		}
	}
}

// exited tells the clients how the run ended and disconnects them.
func (h *hub) exited(code int) {
	var p [4]byte
	binary.BigEndian.PutUint32(p[:], uint32(int32(code)))
	h.broadcast(frameExit, p[:])
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.clients {
		delete(h.clients, c)
		_ = unix.Shutdown(int(c.Fd()), unix.SHUT_RDWR)
		c.Close()
	}
}

// close stops accepting clients; the socket file goes with the monitor.
func (h *hub) close() {
	h.mu.Lock()
	h.closed = true
	h.mu.Unlock()
	h.listener.Close()
	_ = os.Remove(h.cfg.Bundle + "/" + attachSocket)
}

// setStdin installs the container's stdin for a run (nil between runs).
func (h *hub) setStdin(stdin, master *os.File) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.stdin, h.master = stdin, master
}

// runStdio is the stdio of one run of the workload.
type runStdio struct {
	opts    runtime.CreateOpts
	console *os.File // our end of the console socket, with Tty
	stdinW  *os.File // the write end of the stdin pipe, with OpenStdin
	closers []*os.File
	log     *logs.Writer
	done    sync.WaitGroup
}

// openStdio prepares the files of one run: a console socket with Tty,
// otherwise pipes for stdout and stderr, and for stdin with OpenStdin.
func (m *monitor) openStdio() (*runStdio, error) {
	w, err := logs.NewWriter(m.cfg.LogPath, m.cfg.LogOpts)
	if err != nil {
		return nil, err
	}
	s := &runStdio{log: w}
	if m.cfg.Tty {
		fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			w.Close()
			return nil, err
		}
		s.console = os.NewFile(uintptr(fds[0]), "console")
		s.opts.ConsoleSocket = os.NewFile(uintptr(fds[1]), "console-init")
		s.closers = append(s.closers, s.opts.ConsoleSocket)
		return s, nil
	}
	for _, name := range []string{"stdout", "stderr"} {
		r, wr, err := os.Pipe()
		if err != nil {
			s.abort()
			return nil, err
		}
		s.closers = append(s.closers, wr)
		if name == "stdout" {
			s.opts.Stdout = wr
		} else {
			s.opts.Stderr = wr
		}
		s.relay(m.hub, r, name)
	}
	if m.cfg.OpenStdin {
		r, wr, err := os.Pipe()
		if err != nil {
			s.abort()
			return nil, err
		}
		s.opts.Stdin, s.stdinW = r, wr
		s.closers = append(s.closers, r)
	}
	return s, nil
}

// created runs once the container holds its ends: it closes ours (the
// relays see EOF only when the container's are the last), takes the pty
// master and connects the hub to this run's stdin.
func (s *runStdio) created(h *hub) error {
	for _, f := range s.closers {
		f.Close()
	}
	s.closers = nil
	if s.console == nil {
		h.setStdin(s.stdinW, nil)
		return nil
	}
	master, err := runtime.RecvConsole(s.console)
	s.console.Close()
	if err != nil {
		return err
	}
	h.setStdin(master, master)
	h.resize(master)
	s.relay(h, master, "stdout")
	return nil
}

// relay copies r into the log stream name and to the attached clients
// until EOF (or EIO: a terminal whose slave is closed).
func (s *runStdio) relay(h *hub, r *os.File, name string) {
	kind := byte(frameStdout)
	if name == "stderr" {
		kind = frameStderr
	}
	s.done.Add(1)
	go func() {
		defer s.done.Done()
		ls := s.log.Stream(name)
		buf := make([]byte, 32<<10)
		for {
			n, err := r.Read(buf)
			if n > 0 {
				_, _ = ls.Write(buf[:n])
				h.broadcast(kind, buf[:n])
			}
			if err != nil {
				break
			}
		}
		ls.Close()
		r.Close()
	}()
}

// finish waits for the output to drain and releases the run's files.
func (s *runStdio) finish(h *hub) {
	s.done.Wait()
	h.setStdin(nil, nil)
	if s.stdinW != nil {
		s.stdinW.Close()
	}
	s.log.Close()
}

// abort releases everything of a run that never started.
func (s *runStdio) abort() {
	for _, f := range append(s.closers, s.console, s.stdinW) {
		if f != nil {
			f.Close()
		}
	}
	s.closers = nil
	s.done.Wait()
	s.log.Close()
}
