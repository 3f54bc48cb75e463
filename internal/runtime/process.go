package runtime

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"unsafe"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/strata-containers/strata/internal/errdefs"
)

var rlimitNumbers = map[string]int{
	"RLIMIT_AS": unix.RLIMIT_AS, "RLIMIT_CORE": unix.RLIMIT_CORE, "RLIMIT_CPU": unix.RLIMIT_CPU,
	"RLIMIT_DATA": unix.RLIMIT_DATA, "RLIMIT_FSIZE": unix.RLIMIT_FSIZE, "RLIMIT_LOCKS": unix.RLIMIT_LOCKS,
	"RLIMIT_MEMLOCK": unix.RLIMIT_MEMLOCK, "RLIMIT_MSGQUEUE": unix.RLIMIT_MSGQUEUE,
	"RLIMIT_NICE": unix.RLIMIT_NICE, "RLIMIT_NOFILE": unix.RLIMIT_NOFILE, "RLIMIT_NPROC": unix.RLIMIT_NPROC,
	"RLIMIT_RSS": unix.RLIMIT_RSS, "RLIMIT_RTPRIO": unix.RLIMIT_RTPRIO, "RLIMIT_RTTIME": unix.RLIMIT_RTTIME,
	"RLIMIT_SIGPENDING": unix.RLIMIT_SIGPENDING, "RLIMIT_STACK": unix.RLIMIT_STACK,
}

// setRlimits applies the spec's limits to the init, whose workload
// inherits them. unix.Prlimit goes through the syscall package, which then
// knows not to restore its own RLIMIT_NOFILE at execve.
func setRlimits(rls []specs.POSIXRlimit) error {
	for _, rl := range rls {
		res, ok := rlimitNumbers[rl.Type]
		if !ok {
			return errdefs.Invalid("unknown rlimit %q", rl.Type)
		}
		if rl.Soft > rl.Hard {
			return errdefs.Invalid("rlimit %s: soft limit %d above hard limit %d", rl.Type, rl.Soft, rl.Hard)
		}
		err := unix.Prlimit(0, res, &unix.Rlimit{Cur: rl.Soft, Max: rl.Hard}, nil)
		if err == nil && res == unix.RLIMIT_NOFILE {
			// The syscall package's Setrlimit also forgets the soft limit
			// the Go runtime raised at start, which syscall.Exec would
			// otherwise put back over the spec's.
			err = syscall.Setrlimit(res, &syscall.Rlimit{Cur: rl.Soft, Max: rl.Hard})
		}
		if errors.Is(err, unix.EPERM) {
			var cur unix.Rlimit
			unix.Prlimit(0, res, nil, &cur)
			return errdefs.Unavailable("rlimit %s: hard limit %d is above this host's %d, and raising it needs CAP_SYS_RESOURCE: %w",
				rl.Type, rl.Hard, cur.Max, err)
		}
		if err != nil {
			return fmt.Errorf("setting rlimit %s to %d/%d: %w", rl.Type, rl.Soft, rl.Hard, err)
		}
	}
	return nil
}

// setUser switches the calling thread to the spec's user and groups. The
// raw syscalls change this thread only, which is the one that execs: the
// syscall package's versions change every thread by signalling them, which
// fails in a process with cgo (as strata will be once nsenter lands).
func setUser(u specs.User) error {
	gids := make([]uint32, len(u.AdditionalGids))
	copy(gids, u.AdditionalGids)
	var ptr unsafe.Pointer
	if len(gids) > 0 {
		ptr = unsafe.Pointer(&gids[0])
	}
	// A user namespace joined by path may deny setgroups (as one made by
	// an unprivileged user must); with no groups to set, runc then skips
	// the call, and so does this.
	if len(gids) > 0 || !setgroupsDenied() {
		if _, _, e := unix.RawSyscall(unix.SYS_SETGROUPS, uintptr(len(gids)), uintptr(ptr), 0); e != 0 {
			return fmt.Errorf("setting supplementary groups %v: %w", u.AdditionalGids, e)
		}
	}
	if _, _, e := unix.RawSyscall(unix.SYS_SETRESGID, uintptr(u.GID), uintptr(u.GID), uintptr(u.GID)); e != 0 {
		return fmt.Errorf("setting gid %d: %w", u.GID, e)
	}
	if _, _, e := unix.RawSyscall(unix.SYS_SETRESUID, uintptr(u.UID), uintptr(u.UID), uintptr(u.UID)); e != 0 {
		return fmt.Errorf("setting uid %d: %w", u.UID, e)
	}
	return nil
}

// defaultPath is the search path when the workload's environment has none
// (Docker's default).
const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// lookPath finds the workload's executable in the container, with the
// container's PATH and as the container's user, so that Create, not
// Start, reports a missing one.
func lookPath(file string, env []string) (string, error) {
	if strings.Contains(file, "/") {
		if err := executable(file); err != nil {
			return "", execError(file, "", err)
		}
		return file, nil
	}
	pathEnv := defaultPath
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			pathEnv = v
		}
	}
	var denied error
	for _, dir := range filepath.SplitList(pathEnv) {
		if dir == "" {
			dir = "."
		}
		p := filepath.Join(dir, file)
		err := executable(p)
		if err == nil {
			return p, nil
		}
		if denied == nil && !errors.Is(err, unix.ENOENT) && !errors.Is(err, unix.ENOTDIR) {
			denied = err
		}
	}
	if denied != nil {
		return "", execError(file, " in $PATH", denied)
	}
	return "", execError(file, " in $PATH", unix.ENOENT)
}

func executable(p string) error {
	fi, err := os.Stat(p)
	if err != nil {
		return err
	}
	if fi.IsDir() {
		return unix.EACCES
	}
	return unix.Faccessat(unix.AT_FDCWD, p, unix.X_OK, unix.AT_EACCESS)
}

// execError classifies an exec failure the way a shell reports it: a
// missing file is "not found" (127), any other failure "cannot run" (126).
func execError(file, where string, err error) error {
	if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) {
		return errdefs.NotFound("exec: %q: %w%s", file, ErrExecNotFound, where)
	}
	return errdefs.Invalid("exec: %q: %w: %w", file, ErrExecDenied, err)
}
