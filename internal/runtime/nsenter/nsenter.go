// Package nsenter is the only C in strata: a constructor that runs before
// the Go runtime starts, in every process of a binary that links this
// package, and joins existing namespaces for the runtime (package
// runtime), as runc's nsexec does. A Go process cannot do this itself: it
// is multi-threaded from its first instruction, and the kernel lets only a
// single-threaded process enter a mount or user namespace; entering a pid
// namespace with setns moves only the children made afterwards.
//
// The constructor does nothing unless the environment holds
//
//	_STRATA_NSENTER=sync=<fd>,user=<fd>,ipc=<fd>,uts=<fd>,net=<fd>,pid=<fd>,mnt=<fd>,cgroup=<fd>,unshare=<flags>
//
// (every key optional) set by the runtime for a process it starts. It
// then enters the namespaces whose fds are given (open namespace files,
// inherited), always in the order user, ipc, uts, net, pid, mnt, cgroup,
// whatever the order of the keys; closes those fds; unshares the
// namespaces in the decimal clone flags of "unshare" (new ones, made after
// joining so that a joined user namespace owns them); and, when a pid
// namespace was joined or made, forks, so that the child is in it.
//
// On the sync socket it writes one line of the runtime's sync protocol:
// {"type":"pid","pid":N}, the pid of the process that goes on into the Go
// runtime (the child, after a fork), or {"type":"error",...} if a step
// failed, and exits 1. After a fork the parent stays: it closes every fd
// but stdio, forwards SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2
// and SIGWINCH to the child, and exits as the child does (128+n after
// signal n); the child dies with it (parent-death signal SIGKILL).
//
// The package has no Go API: import it for its side effect.
package nsenter

// #cgo CFLAGS: -Wall -Wextra -O2
import "C"
