package seccomp

import (
	"errors"
	"fmt"
	goruntime "runtime"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/strata-containers/strata/internal/errdefs"
)

// Load installs the filter on the calling thread, for good: it cannot be
// removed, and the thread's children and whatever it executes inherit it.
// The caller must hold the thread (runtime.LockOSThread) from here to the
// execve, and must have set no_new_privs or hold CAP_SYS_ADMIN.
//
// Only this thread is filtered (no SECCOMP_FILTER_FLAG_TSYNC): a container
// init's other threads are the Go runtime's, which execve ends.
func (f *Filter) Load() error {
	if len(f.Program) == 0 || len(f.Program) > maxInsns {
		return errdefs.Invalid("seccomp program of %d instructions", len(f.Program))
	}
	prog := unix.SockFprog{Len: uint16(len(f.Program)), Filter: &f.Program[0]}
	_, _, errno := unix.RawSyscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER,
		uintptr(f.Flags), uintptr(unsafe.Pointer(&prog)))
	goruntime.KeepAlive(f)
	switch {
	case errno == 0:
		return nil
	case errors.Is(errno, unix.EACCES):
		return fmt.Errorf("loading seccomp filter needs no_new_privs or CAP_SYS_ADMIN: %w", errno)
	case errors.Is(errno, unix.EINVAL) && f.Flags != 0:
		return errdefs.Unavailable("loading seccomp filter with flags %#x: %w", f.Flags, errno)
	}
	return fmt.Errorf("loading seccomp filter: %w", errno)
}
