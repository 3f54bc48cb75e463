package runtime

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// markCloexec sets close-on-exec on every fd from base on. close_range is
// one syscall, but a seccomp profile written before it existed (Linux 5.9;
// runtime-tools' default, older Docker ones) denies it, and the filter is
// already loaded when the spec does not set no_new_privs: then every fd up
// to the open-files limit gets fcntl, which every profile allows.
func markCloexec(base int) error {
	err := unix.CloseRange(uint(base), ^uint(0), unix.CLOSE_RANGE_CLOEXEC)
	if err == nil || !(errors.Is(err, unix.EPERM) || errors.Is(err, unix.ENOSYS)) {
		return err
	}
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		return fmt.Errorf("reading open-files limit: %w", err)
	}
	for fd := base; uint64(fd) < lim.Cur; fd++ {
		_, err := unix.FcntlInt(uintptr(fd), unix.F_SETFD, unix.FD_CLOEXEC)
		if err != nil && !errors.Is(err, unix.EBADF) {
			return fmt.Errorf("fd %d: %w", fd, err)
		}
	}
	return nil
}
