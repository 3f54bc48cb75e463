package runtime

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// resetSignals gives the workload default signal dispositions. execve
// resets handled signals but keeps ignored ones, and the init inherits
// whatever its creator ignored (a monitor ignores SIGINT and SIGHUP, a
// shell's background job SIGINT and SIGQUIT): a workload would then
// silently drop a ^C and, being a shell, refuse to trap it. Called right
// before execve; a zero sigaction is SIG_DFL with no flags whatever the
// architecture's layout.
func resetSignals() {
	var act [4]uint64
	for sig := 1; sig <= 64; sig++ {
		if sig == int(unix.SIGKILL) || sig == int(unix.SIGSTOP) {
			continue
		}
		unix.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(sig), uintptr(unsafe.Pointer(&act)), 0, 8, 0, 0)
	}
}
