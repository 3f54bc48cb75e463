package runtime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/strata-containers/strata/internal/errdefs"
)

// initEnv marks a process as a container init; its value is the fd of the
// init's end of the sync socket. After it come the start socket's listener
// and the sealed executable; before it, the fds preserved for the workload.
const initEnv = "_STRATA_INIT"

// startInit starts the container's init in its new namespaces, from a
// sealed copy of this executable.
func (r *Runtime) startInit(c *container, spec *specs.Spec, opts CreateOpts) (*initProcess, error) {
	plan, err := planNamespaces(spec.Linux.Namespaces)
	if err != nil {
		return nil, err
	}
	exe := opts.Exe // checked by Create
	if exe == nil {
		if exe, err = sealedExe(); err != nil {
			return nil, err
		}
		defer exe.Close()
	}
	parentEnd, childEnd, err := socketpair()
	if err != nil {
		return nil, err
	}
	defer childEnd.Close()
	listener, err := listenStart(c.dir)
	if err != nil {
		parentEnd.Close()
		return nil, err
	}
	defer listener.Close()

	cmd := initCommand(c.rec.ID, plan, spec, opts, childEnd, listener, exe)
	req, err := nsenterFor(plan, cmd)
	if err != nil {
		parentEnd.Close()
		return nil, err
	}
	defer req.close()
	if err := startInJoined(cmd, plan); err != nil {
		parentEnd.Close()
		return nil, fmt.Errorf("starting init: %w", err)
	}
	pid, err := initPid(cmd, req, parentEnd)
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		parentEnd.Close()
		return nil, err
	}
	ch := &child{pid: pid, done: make(chan struct{})}
	go func() {
		cmd.Wait()
		ch.status = exitCode(cmd.ProcessState)
		close(ch.done)
	}()
	r.mu.Lock()
	r.children[c.rec.ID] = ch
	r.mu.Unlock()
	return &initProcess{pid: ch.pid, sync: parentEnd, preserved: len(opts.ExtraFiles), child: ch}, nil
}

// initCommand is the command line of the init: the sealed executable run
// as "strata-init <id>", with the marker variable as its only environment.
func initCommand(id string, plan nsPlan, spec *specs.Spec, opts CreateOpts, sync, listener, exe *os.File) *exec.Cmd {
	base := 3 + len(opts.ExtraFiles)
	cmd := &exec.Cmd{
		// The exe is passed as an inherited fd rather than executed by a
		// /proc/self/fd path of the parent, whose number the child's fd
		// shuffling could reuse before execve.
		Path:        "/proc/self/fd/" + strconv.Itoa(base+2),
		Args:        []string{"strata-init", id},
		Env:         []string{initEnv + "=" + strconv.Itoa(base)},
		Dir:         "/",
		ExtraFiles:  append(append([]*os.File{}, opts.ExtraFiles...), sync, listener, exe),
		SysProcAttr: &syscall.SysProcAttr{Cloneflags: plan.clone, Setsid: true},
	}
	if opts.ConsoleSocket != nil {
		cmd.ExtraFiles = append(cmd.ExtraFiles, opts.ConsoleSocket) // consoleFd
	}
	setStdio(cmd, opts)
	if plan.clone&unix.CLONE_NEWUSER != 0 {
		cmd.SysProcAttr.UidMappings = idMaps(spec.Linux.UIDMappings)
		cmd.SysProcAttr.GidMappings = idMaps(spec.Linux.GIDMappings)
		cmd.SysProcAttr.GidMappingsEnableSetgroups = true
		// The clone keeps the host's uid 0, which the mapping usually
		// leaves out; becoming the namespace's root is what gives the
		// init its capabilities there.
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: 0, Gid: 0}
	}
	return cmd
}

// setStdio sets only the files given: a nil *os.File in an io.Reader
// would not be nil, and exec would copy from it.
func setStdio(cmd *exec.Cmd, opts CreateOpts) {
	if opts.Stdin != nil {
		cmd.Stdin = opts.Stdin
	}
	if opts.Stdout != nil {
		cmd.Stdout = opts.Stdout
	}
	if opts.Stderr != nil {
		cmd.Stderr = opts.Stderr
	}
}

func idMaps(ms []specs.LinuxIDMapping) []syscall.SysProcIDMap {
	var out []syscall.SysProcIDMap
	for _, m := range ms {
		out = append(out, syscall.SysProcIDMap{ContainerID: int(m.ContainerID), HostID: int(m.HostID), Size: int(m.Size)})
	}
	return out
}

// exitCode is the shell's view of how a process ended.
func exitCode(ps *os.ProcessState) int {
	if ps == nil {
		return -1
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ps.ExitCode()
}

// socketpair returns the parent's end, non-blocking so that deadlines
// work, and the child's, blocking as the init expects.
func socketpair() (parent, child *os.File, err error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("creating sync socket: %w", err)
	}
	if err := unix.SetNonblock(fds[0], true); err != nil {
		unix.Close(fds[0])
		unix.Close(fds[1])
		return nil, nil, fmt.Errorf("creating sync socket: %w", err)
	}
	return os.NewFile(uintptr(fds[0]), "sync"), os.NewFile(uintptr(fds[1]), "sync-init"), nil
}

// sockAddr names dir/start.sock through an fd of dir, because a unix
// socket path is limited to 107 bytes and a state directory may be longer.
func sockAddr(dir string, do func(addr *unix.SockaddrUnix) error) error {
	dfd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("opening %s: %w", dir, err)
	}
	defer unix.Close(dfd)
	return do(&unix.SockaddrUnix{Name: "/proc/self/fd/" + strconv.Itoa(dfd) + "/" + sockName})
}

func listenStart(dir string) (*os.File, error) {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("creating start socket: %w", err)
	}
	err = sockAddr(dir, func(addr *unix.SockaddrUnix) error { return unix.Bind(fd, addr) })
	if err == nil {
		err = unix.Listen(fd, 1)
	}
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("binding start socket in %s: %w", dir, err)
	}
	return os.NewFile(uintptr(fd), "start-listener"), nil
}

// sendStart releases the init waiting on the start socket in dir and waits
// for the execve: a clean EOF means it happened.
func sendStart(ctx context.Context, dir string) error {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("creating socket: %w", err)
	}
	err = sockAddr(dir, func(addr *unix.SockaddrUnix) error { return unix.Connect(fd, addr) })
	if errors.Is(err, unix.ECONNREFUSED) || errors.Is(err, unix.ENOENT) {
		unix.Close(fd)
		return errdefs.Conflict("init is not waiting for start")
	}
	if err == nil {
		err = unix.SetNonblock(fd, true)
	}
	if err != nil {
		unix.Close(fd)
		return fmt.Errorf("connecting to init: %w", err)
	}
	conn := os.NewFile(uintptr(fd), "start")
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })
	defer stop()
	if err := writeMessage(conn, message{Type: msgStart}); err != nil {
		return err
	}
	msg, err := readMessage(newDecoder(conn))
	switch {
	case errors.Is(err, io.EOF):
		return nil
	case ctx.Err() != nil:
		return ctx.Err()
	case err != nil:
		return err
	case msg.Type == msgError && msg.Error != nil:
		return msg.Error.err()
	}
	return fmt.Errorf("unexpected %q message from init", msg.Type)
}
