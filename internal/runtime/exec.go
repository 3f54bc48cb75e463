package runtime

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/strata-containers/strata/internal/errdefs"
	"github.com/strata-containers/strata/internal/runtime/cgroups"
)

// ExecOpts are the options of Exec.
type ExecOpts struct {
	// Stdin, Stdout and Stderr become fds 0, 1 and 2 of the process; nil
	// means /dev/null. Ignored with process.terminal, where the three are
	// the terminal.
	Stdin, Stdout, Stderr *os.File
	// Exe, if set, is a sealed copy of this executable (from SealedExe)
	// to run the helper from; the caller closes it.
	Exe *os.File
}

// ExecProcess is a process Exec started in a container.
type ExecProcess struct {
	// Pid is the process's pid as the caller sees it.
	Pid int
	// Console is the master side of the process's terminal, when its
	// spec asked for one; the caller relays it and closes it.
	Console *os.File

	pidfd  int
	done   chan struct{}
	status int // valid once done is closed
}

// Wait waits for the process to exit and returns its exit code (128+n
// after signal n).
func (p *ExecProcess) Wait(ctx context.Context) (int, error) {
	select {
	case <-p.done:
		return p.status, nil
	case <-ctx.Done():
		return -1, ctx.Err()
	}
}

// Signal sends sig to the process, through a pidfd: never to a process
// that reused its pid.
func (p *ExecProcess) Signal(sig unix.Signal) error {
	if p.pidfd < 0 {
		return errdefs.Invalid("process %d: signal after Close", p.Pid)
	}
	err := unix.PidfdSendSignal(p.pidfd, sig, nil, 0)
	if errors.Is(err, unix.ESRCH) {
		return errdefs.Conflict("process %d has exited", p.Pid)
	}
	return err
}

// Close releases the pidfd and the console; the process is not affected.
func (p *ExecProcess) Close() error {
	if p.Console != nil {
		p.Console.Close()
	}
	if p.pidfd < 0 {
		return nil
	}
	fd := p.pidfd
	p.pidfd = -1
	return unix.Close(fd)
}

// Exec starts proc in running container id: in all of its namespaces and
// its cgroup, as proc's user with proc's capabilities, rlimits and
// no_new_privs, under the container's seccomp filter. It returns once the
// process executed proc.Args[0], or with the error that kept it from
// doing so (ErrExecNotFound, ErrExecDenied, ...). The process is a
// grandchild of the caller: a helper outside the container that stays
// its parent (package nsenter), whose exit status Wait reports.
func (r *Runtime) Exec(ctx context.Context, id string, proc *specs.Process, opts ExecOpts) (*ExecProcess, error) {
	if err := checkID(id); err != nil {
		return nil, err
	}
	if err := checkProcess(proc); err != nil {
		return nil, err
	}
	c, err := r.open(ctx, id)
	if err != nil {
		return nil, err
	}
	defer c.unlock()
	if st := r.status(&c.rec); st != specs.StateRunning {
		return nil, errdefs.Conflict("container %q is not running", id)
	}
	spec, err := loadSpec(c.rec.Bundle)
	if err != nil {
		return nil, err
	}
	req, err := containerNamespaces(&c.rec, spec)
	if err != nil {
		return nil, err
	}
	defer req.close()
	p, err := r.startExec(ctx, &c.rec, spec, proc, req, opts)
	if err != nil {
		return nil, fmt.Errorf("exec in container %q: %w", id, err)
	}
	return p, nil
}

func checkProcess(proc *specs.Process) error {
	switch {
	case proc == nil || len(proc.Args) == 0:
		return errdefs.Invalid("no process args")
	case proc.Cwd != "" && !filepath.IsAbs(proc.Cwd):
		return errdefs.Invalid("process.cwd %q is not absolute", proc.Cwd)
	}
	_, err := capMasks(proc.Capabilities)
	return err
}

// containerNamespaces opens the namespaces of the container's init: those
// the spec lists (new or joined), as the init holds them now. The init is
// checked to be alive after they were opened, so they are not those of a
// process that reused its pid.
func containerNamespaces(rec *record, spec *specs.Spec) (*nsRequest, error) {
	req := &nsRequest{}
	for _, ns := range spec.Linux.Namespaces {
		name, ok := nsFileNames[ns.Type]
		if !ok {
			continue // a time namespace: not joined (see the package doc)
		}
		if err := req.add(ns.Type, "/proc/"+strconv.Itoa(rec.Pid)+"/ns/"+name); err != nil {
			req.close()
			return nil, err
		}
	}
	if !rec.initAlive() {
		req.close()
		return nil, errdefs.Conflict("container %q is not running", rec.ID)
	}
	return req, nil
}

// startExec starts the helper and takes it through the protocol of
// exec_init.go: pid, cgroup, config, terminal, execve.
func (r *Runtime) startExec(ctx context.Context, rec *record, spec *specs.Spec, proc *specs.Process, req *nsRequest, opts ExecOpts) (*ExecProcess, error) {
	exe := opts.Exe
	if exe == nil {
		var err error
		if exe, err = sealedExe(); err != nil {
			return nil, err
		}
		defer exe.Close()
	} else if err := checkSealed(exe); err != nil {
		return nil, err
	}
	parentEnd, childEnd, err := socketpair()
	if err != nil {
		return nil, err
	}
	defer parentEnd.Close()
	cmd := execCommand(rec.ID, req, childEnd, exe)
	// A process with a terminal of its own is no job of the caller's: the
	// hangup of the caller's terminal (its session ending after a detach)
	// must not reach it. Without one, ^C on the caller's terminal must.
	cmd.SysProcAttr.Setpgid = proc.Terminal
	if !proc.Terminal {
		setStdio(cmd, CreateOpts{Stdin: opts.Stdin, Stdout: opts.Stdout, Stderr: opts.Stderr})
	}
	err = cmd.Start()
	childEnd.Close()
	if err != nil {
		return nil, fmt.Errorf("starting exec helper: %w", err)
	}
	p := &ExecProcess{pidfd: -1, done: make(chan struct{})}
	go func() {
		cmd.Wait()
		p.status = exitCode(cmd.ProcessState)
		close(p.done)
	}()
	if err := p.setup(ctx, cmd.Process.Pid, parentEnd, rec, spec, proc); err != nil {
		cmd.Process.Kill()
		<-p.done
		p.Close()
		return nil, err
	}
	return p, nil
}

// execCommand is the helper's command line: the sealed executable run as
// "strata-exec <id>", with the nsenter request and the exec marker as its
// only environment. Its fds: stdio, the sync socket, the namespaces, the
// executable.
func execCommand(id string, req *nsRequest, sync, exe *os.File) *exec.Cmd {
	files := append(append([]*os.File{sync}, req.files...), exe)
	return &exec.Cmd{
		Path:       "/proc/self/fd/" + strconv.Itoa(3+len(files)-1),
		Args:       []string{"strata-exec", id},
		Env:        []string{req.env(3, 4), execEnv + "=3"},
		Dir:        "/",
		ExtraFiles: files,
		// Not a session of its own: the process makes one in the container.
		SysProcAttr: &syscall.SysProcAttr{},
	}
}

// setup puts the helper and the process in the container's cgroup, sends
// the process its spec and waits for its execve.
func (p *ExecProcess) setup(ctx context.Context, helper int, sync *os.File, rec *record, spec *specs.Spec, proc *specs.Process) error {
	pid, err := readPid(ctx, sync)
	if err != nil {
		return err
	}
	p.Pid = pid
	if p.pidfd, err = unix.PidfdOpen(pid, 0); err != nil {
		return fmt.Errorf("opening pidfd of exec process: %w", err)
	}
	mgr, err := cgroups.New(rec.CgroupPath)
	if err != nil {
		return err
	}
	for _, pid := range []int{helper, pid} {
		if err := mgr.Apply(ctx, pid); err != nil {
			return err
		}
	}
	cfg := &initConfig{ID: rec.ID, Spec: &specs.Spec{Process: proc, Linux: &specs.Linux{Seccomp: spec.Linux.Seccomp}}}
	stop := context.AfterFunc(ctx, func() { sync.SetDeadline(time.Now()) })
	defer stop()
	if err := writeMessage(sync, message{Type: msgConfig, Config: cfg}); err != nil {
		return err
	}
	var rest io.Reader = sync
	if proc.Terminal {
		if p.Console, rest, err = recvConsole(sync); err != nil {
			return err
		}
	}
	msg, err := readMessage(newDecoder(rest))
	switch {
	case errors.Is(err, io.EOF):
		return nil // close-on-exec: the execve happened
	case ctx.Err() != nil:
		return ctx.Err()
	case err != nil:
		return err
	case msg.Type == msgError && msg.Error != nil:
		return msg.Error.err()
	}
	return fmt.Errorf("unexpected %q message from exec process", msg.Type)
}

// recvConsole receives the terminal's master, which the process sends as
// its first message: one byte with the fd attached. When the process
// failed first, what it sent is an error message, returned as the reader
// to go on with.
func recvConsole(sync *os.File) (*os.File, io.Reader, error) {
	rc, err := sync.SyscallConn()
	if err != nil {
		return nil, nil, err
	}
	buf := make([]byte, 1)
	oob := make([]byte, unix.CmsgSpace(4))
	var n, oobn int
	var rerr error
	err = rc.Read(func(fd uintptr) bool {
		n, oobn, _, _, rerr = unix.Recvmsg(int(fd), buf, oob, unix.MSG_CMSG_CLOEXEC)
		return !errors.Is(rerr, unix.EAGAIN)
	})
	if err == nil {
		err = rerr
	}
	if err != nil {
		return nil, nil, fmt.Errorf("receiving terminal: %w", err)
	}
	if n == 0 {
		return nil, nil, errors.New("exec process exited before it sent its terminal")
	}
	if oobn == 0 {
		return nil, io.MultiReader(bytes.NewReader(buf[:n]), sync), nil
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		return nil, nil, fmt.Errorf("receiving terminal: bad control message")
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		return nil, nil, fmt.Errorf("receiving terminal: bad control message")
	}
	return os.NewFile(uintptr(fds[0]), "pty-master"), sync, nil
}
