package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	goruntime "runtime"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/strata-containers/strata/internal/errdefs"
	"github.com/strata-containers/strata/internal/runtime/rootfs"
	"github.com/strata-containers/strata/internal/runtime/seccomp"
)

// Init turns this process into a container's init if the runtime started
// it as one, and then never returns: it builds the container and executes
// the workload, or exits with an error reported to the runtime. In any
// other process it returns at once. The binary's main must call it first
// thing, before it parses flags or starts goroutines.
//
// The marker is an environment variable set by the runtime alone, the one
// variable this package reads: it is plumbing between two copies of the
// same binary, not configuration.
func Init() {
	if v, ok := os.LookupEnv(execEnv); ok {
		goruntime.LockOSThread()
		os.Exit(runExecInit(v))
	}
	v, ok := os.LookupEnv(initEnv)
	if !ok {
		return
	}
	// Namespaces joined with setns, capabilities and credentials belong to
	// a thread: all of it happens on this one, which also calls execve.
	goruntime.LockOSThread()
	base, err := strconv.Atoi(v)
	if err != nil || base < 3 {
		fmt.Fprintf(os.Stderr, "strata init: bad %s=%q\n", initEnv, v)
		os.Exit(1)
	}
	os.Exit(runInit(base))
}

// initState is the init's side of one container.
type initState struct {
	cfg  *initConfig
	base int    // first fd that is not the workload's
	path string // the workload's executable, found during setup
	// filter is the compiled seccomp profile, nil without one.
	filter *seccomp.Filter
	// sync and dec are the init's end of the sync socket, during setup.
	sync *os.File
	dec  *json.Decoder
}

// runInit runs the init and returns its exit status if it fails.
func runInit(base int) int {
	syncFile := os.NewFile(uintptr(base), "sync")
	dec := newDecoder(syncFile)
	msg, err := readMessage(dec)
	if err != nil || msg.Type != msgConfig || msg.Config == nil || msg.Config.Spec == nil {
		// The runtime went away before sending a config: nobody to tell.
		return 1
	}
	s := &initState{cfg: msg.Config, base: base, sync: syncFile, dec: dec}
	if err := s.setup(context.Background()); err != nil {
		writeMessage(syncFile, message{Type: msgError, Error: toWire(err)})
		return 1
	}
	if err := writeMessage(syncFile, message{Type: msgCreated}); err != nil {
		return 1
	}
	syncFile.Close()
	conn, err := waitStart(base + 1)
	if err != nil {
		return 1
	}
	if s.cfg.Spec.Annotations[reaperAnnotation] == reaperValue {
		return s.reap(conn, base+1)
	}
	err = s.exec()
	writeMessage(conn, message{Type: msgError, Error: toWire(err)})
	switch {
	case errors.Is(err, ErrExecNotFound):
		return 127
	case errors.Is(err, ErrExecDenied):
		return 126
	}
	return 1
}

// waitStart accepts connections on the start socket until one says start.
func waitStart(listener int) (*os.File, error) {
	for {
		fd, _, err := unix.Accept4(listener, unix.SOCK_CLOEXEC)
		if errors.Is(err, unix.EINTR) || errors.Is(err, unix.ECONNABORTED) {
			continue
		}
		if err != nil {
			return nil, err
		}
		conn := os.NewFile(uintptr(fd), "start")
		if msg, err := readMessage(newDecoder(conn)); err == nil && msg.Type == msgStart {
			return conn, nil
		}
		conn.Close()
	}
}

// setup builds the container, in the order the kernel requires: the
// namespaces before the mounts (sysfs belongs to the network namespace),
// everything that writes to the rootfs before it turns read-only, and
// what needs privilege before the capabilities and the user change.
func (s *initState) setup(ctx context.Context) error {
	spec := s.cfg.Spec
	plan, err := planNamespaces(spec.Linux.Namespaces)
	if err != nil {
		return err
	}
	if err := s.compileSeccomp(); err != nil {
		return err
	}
	if err := joinNamespaces(plan); err != nil {
		return err
	}
	if spec.Process.OOMScoreAdj != nil {
		adj := []byte(strconv.Itoa(*spec.Process.OOMScoreAdj))
		if err := os.WriteFile("/proc/self/oom_score_adj", adj, 0); err != nil {
			return fmt.Errorf("setting oom_score_adj: %w", err)
		}
	}
	if err := rootfs.Prepare(ctx, rootfs.Config{
		Spec: spec, Rootfs: s.cfg.Rootfs, Bundle: s.cfg.Bundle, CgroupMounts: s.cfg.CgroupMounts,
		BeforePivot: s.initHooksBeforePivot,
	}); err != nil {
		return err
	}
	if spec.Process.Terminal {
		if err := setupConsole(s.base, spec.Process); err != nil {
			return err
		}
	}
	if err := s.setupSystem(plan); err != nil {
		return err
	}
	if err := rootfs.Finish(ctx, spec); err != nil {
		return err
	}
	if err := setRlimits(spec.Process.Rlimits); err != nil {
		return err
	}
	if err := s.setupProcess(); err != nil {
		return err
	}
	s.path, err = lookPath(spec.Process.Args[0], spec.Process.Env)
	return err
}

// setupSystem sets the hostname, domain name and sysctls, and creates the
// working directory while the root is still writable.
func (s *initState) setupSystem(plan nsPlan) error {
	spec := s.cfg.Spec
	ownUTS := plan.clone&unix.CLONE_NEWUTS != 0 || joined(plan, specs.UTSNamespace)
	if (spec.Hostname != "" || spec.Domainname != "") && !ownUTS {
		return errdefs.Invalid("setting a hostname needs a UTS namespace of the container's own")
	}
	if spec.Hostname != "" {
		if err := unix.Sethostname([]byte(spec.Hostname)); err != nil {
			return fmt.Errorf("setting hostname %q: %w", spec.Hostname, err)
		}
	}
	if spec.Domainname != "" {
		if err := unix.Setdomainname([]byte(spec.Domainname)); err != nil {
			return fmt.Errorf("setting domain name %q: %w", spec.Domainname, err)
		}
	}
	for k, v := range spec.Linux.Sysctl {
		if strings.Contains(k, "..") || strings.Contains(k, "/") {
			return errdefs.Invalid("sysctl %q: not a sysctl name", k)
		}
		p := "/proc/sys/" + strings.ReplaceAll(k, ".", "/")
		if err := os.WriteFile(p, []byte(v), 0); err != nil {
			return fmt.Errorf("setting sysctl %s: %w", k, err)
		}
	}
	if cwd := spec.Process.Cwd; cwd != "" {
		if err := os.MkdirAll(cwd, 0o755); errors.Is(err, unix.ENOTDIR) {
			return errdefs.Invalid("working directory %s: %w", cwd, err)
		} else if err != nil {
			return fmt.Errorf("creating working directory %s: %w", cwd, err)
		}
	}
	return nil
}

func joined(plan nsPlan, t specs.LinuxNamespaceType) bool {
	for _, ns := range plan.join {
		if ns.Type == t {
			return true
		}
	}
	return false
}

// setupProcess drops to the workload's user and capabilities. The bounding
// set goes first (it needs CAP_SETPCAP); KEEPCAPS carries the permitted set
// across the change of uid; then the final sets are applied.
func (s *initState) setupProcess() error {
	proc := s.cfg.Spec.Process
	caps, err := capMasks(proc.Capabilities)
	if err != nil {
		return err
	}
	last := lastCap()
	// Checked as root first: the spec's seccomp filter may deny getcwd.
	if err := enterCwd(proc.Cwd, false); err != nil {
		return err
	}
	if err := s.loadSeccomp(false); err != nil {
		return err
	}
	if proc.Capabilities != nil {
		if err := dropBounding(caps, last); err != nil {
			return err
		}
	}
	if err := unix.Prctl(unix.PR_SET_KEEPCAPS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("setting keepcaps: %w", err)
	}
	if err := setUser(proc.User); err != nil {
		return err
	}
	// The working directory is entered as the user, whose permissions apply.
	if err := enterCwd(proc.Cwd, s.filter != nil); err != nil {
		return err
	}
	if err := unix.Prctl(unix.PR_SET_KEEPCAPS, 0, 0, 0, 0); err != nil {
		return fmt.Errorf("clearing keepcaps: %w", err)
	}
	if proc.Capabilities != nil {
		if err := applyCaps(caps, last); err != nil {
			return err
		}
	}
	if proc.NoNewPrivileges {
		if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
			return fmt.Errorf("setting no_new_privs: %w", err)
		}
	}
	return nil
}

// enterCwd changes to the working directory and checks that it is inside
// the container: a directory reached through a leaked host fd (the
// CVE-2024-21626 class) shows as "(unreachable)" to getcwd. With
// mayBeFiltered, a getcwd that fails (denied by the seccomp filter) is
// taken as passed: the same path was checked before the filter.
func enterCwd(cwd string, mayBeFiltered bool) error {
	if cwd == "" {
		cwd = "/"
	}
	if err := unix.Chdir(cwd); err != nil {
		return fmt.Errorf("entering working directory %s: %w", cwd, err)
	}
	buf := make([]byte, unix.PathMax)
	n, err := unix.Getcwd(buf)
	if err != nil && mayBeFiltered {
		return nil
	}
	if err != nil {
		return fmt.Errorf("checking working directory %s: %w", cwd, err)
	}
	if n == 0 || buf[0] != '/' {
		return errdefs.Invalid("working directory %s is outside the container", cwd)
	}
	return nil
}

// exec replaces the init with the workload and returns only on failure.
// Every fd from base on (the sync and start sockets, the sealed
// executable, whatever the Go runtime opened) is closed by the execve;
// the workload keeps stdio and its preserved fds only.
func (s *initState) exec() error {
	proc := s.cfg.Spec.Process
	if err := markCloexec(s.base); err != nil {
		return fmt.Errorf("marking fds close-on-exec: %w", err)
	}
	umask := 0o022
	if proc.User.Umask != nil {
		umask = int(*proc.User.Umask)
	}
	unix.Umask(umask)
	if err := s.startContainerHooks(); err != nil {
		return err
	}
	resetSignals() // before the filter, which might deny rt_sigaction
	if err := s.loadSeccomp(true); err != nil {
		return err
	}
	err := unix.Exec(s.path, proc.Args, proc.Env)
	return execError(proc.Args[0], "", err)
}
