package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/strata-containers/strata/internal/errdefs"
	// The constructor that joins namespaces before the Go runtime starts,
	// in processes started with nsenterEnv (see package nsenter).
	_ "github.com/strata-containers/strata/internal/runtime/nsenter"
)

// nsenterEnv carries a request to the nsenter constructor.
const nsenterEnv = "_STRATA_NSENTER"

// nsFileNames are the names of the namespaces under /proc/<pid>/ns, which
// are also the keys of the nsenter request.
var nsFileNames = map[specs.LinuxNamespaceType]string{
	specs.UserNamespace: "user", specs.IPCNamespace: "ipc", specs.UTSNamespace: "uts",
	specs.NetworkNamespace: "net", specs.PIDNamespace: "pid", specs.MountNamespace: "mnt",
	specs.CgroupNamespace: "cgroup",
}

// nsRequest is what a process asks of the nsenter constructor: the
// namespaces to enter, as open files it inherits, and new namespaces to
// make once there.
type nsRequest struct {
	files   []*os.File
	names   []string
	unshare uintptr
}

// add opens the namespace file at path for joining. The caller's own user
// namespace is left out: setns refuses to enter it again.
func (q *nsRequest) add(t specs.LinuxNamespaceType, path string) error {
	name, ok := nsFileNames[t]
	if !ok {
		return errdefs.Unavailable("joining an existing %s namespace is not supported", t)
	}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return errdefs.NotFound("%s namespace %s: %w", t, path, err)
	}
	if err != nil {
		return fmt.Errorf("opening %s namespace %s: %w", t, path, err)
	}
	if t == specs.UserNamespace && sameFile(f, "/proc/self/ns/user") {
		f.Close()
		return nil
	}
	q.files = append(q.files, f)
	q.names = append(q.names, name)
	return nil
}

func sameFile(f *os.File, path string) bool {
	a, err1 := f.Stat()
	b, err2 := os.Stat(path)
	return err1 == nil && err2 == nil && os.SameFile(a, b)
}

func (q *nsRequest) close() {
	if q == nil {
		return
	}
	for _, f := range q.files {
		f.Close()
	}
}

// env is the request for a process whose sync socket is fd syncFD and
// whose namespace files start at fd firstFD, in the order of q.files.
func (q *nsRequest) env(syncFD, firstFD int) string {
	parts := []string{"sync=" + strconv.Itoa(syncFD)}
	for i, name := range q.names {
		parts = append(parts, name+"="+strconv.Itoa(firstFD+i))
	}
	if q.unshare != 0 {
		parts = append(parts, "unshare="+strconv.FormatUint(uint64(q.unshare), 10))
	}
	return nsenterEnv + "=" + strings.Join(parts, ",")
}

// pidMessage is the constructor's first line on the sync socket.
type pidMessage struct {
	Type  msgType    `json:"type"`
	Pid   int        `json:"pid"`
	Error *wireError `json:"error,omitempty"`
}

// readPid reads the pid the constructor reports: that of the process that
// goes on into the namespaces (a child, when it entered a pid namespace).
// It reads byte by byte, so that nothing after the line is consumed.
func readPid(ctx context.Context, sync *os.File) (int, error) {
	stop := context.AfterFunc(ctx, func() { sync.SetDeadline(time.Now()) })
	defer stop()
	var line []byte
	b := make([]byte, 1)
	for {
		if _, err := sync.Read(b); err != nil {
			if errors.Is(err, io.EOF) {
				return 0, errors.New("process exited before it joined the namespaces")
			}
			if ctx.Err() != nil {
				return 0, ctx.Err()
			}
			return 0, fmt.Errorf("reading pid from nsenter: %w", err)
		}
		if b[0] == '\n' {
			break
		}
		if line = append(line, b[0]); len(line) > 4096 {
			return 0, errors.New("nsenter: pid message too long")
		}
	}
	var m pidMessage
	if err := json.Unmarshal(line, &m); err != nil {
		return 0, fmt.Errorf("nsenter: bad message %q: %w", line, err)
	}
	if m.Type == msgError && m.Error != nil {
		return 0, m.Error.err()
	}
	if m.Type != "pid" || m.Pid <= 0 {
		return 0, fmt.Errorf("nsenter: unexpected message %q", line)
	}
	return m.Pid, nil
}

// nsenterFor hands the namespaces of an init to the nsenter constructor
// when the plan joins one that only it can enter: then it joins all of
// them and makes the new ones (but the cgroup namespace, which the init
// makes in its cgroup) after the joins, so that a joined user namespace
// owns them. It returns nil when the init can do without.
func nsenterFor(plan nsPlan, cmd *exec.Cmd) (*nsRequest, error) {
	if !plan.needsNsenter() {
		return nil, nil
	}
	req := &nsRequest{unshare: cmd.SysProcAttr.Cloneflags}
	for _, ns := range plan.join {
		if err := req.add(ns.Type, ns.Path); err != nil {
			req.close()
			return nil, err
		}
	}
	syncFD := 3 + len(cmd.ExtraFiles) - 3 // initCommand: ..., sync, listener, exe
	cmd.Env = append(cmd.Env, req.env(syncFD, 3+len(cmd.ExtraFiles)))
	cmd.ExtraFiles = append(cmd.ExtraFiles, req.files...)
	cmd.SysProcAttr.Cloneflags = 0
	return req, nil
}

// initPid is the pid of the init: the started process, or with nsenter
// the one the constructor reports (its child, in a pid namespace).
func initPid(cmd *exec.Cmd, req *nsRequest, sync *os.File) (int, error) {
	if req == nil {
		return cmd.Process.Pid, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return readPid(ctx, sync)
}

// needsNsenter tells whether the plan joins a namespace that only the
// nsenter constructor can enter.
func (p nsPlan) needsNsenter() bool {
	for _, ns := range p.join {
		if !joinable[ns.Type] {
			return true
		}
	}
	return false
}

// setgroupsDenied tells whether this process's user namespace forbids
// setgroups ("deny" in /proc/self/setgroups).
func setgroupsDenied() bool {
	data, err := os.ReadFile("/proc/self/setgroups")
	return err == nil && strings.TrimSpace(string(data)) == "deny"
}
