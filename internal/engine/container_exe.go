package engine

import (
	"os"
	"path/filepath"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/strata-containers/strata/internal/runtime"
)

// MonitorExeName is the monitor's own executable (cmd/strata-monitor),
// which strata looks for next to its own. A monitor lives as long as its
// container; run from the strata binary it keeps some 9 MB of that
// binary's pages resident, from the small one well under 2 MB. Without
// it, strata runs itself as the monitor.
const MonitorExeName = "strata-monitor"

// exes are the executables of a container's processes besides the
// workload: strata itself (self), which an --rm container's monitor runs
// to remove it, and the monitor's (monitor), which the container's init
// also runs from (sealed): strata-monitor next to strata if it is there
// and executable, strata itself otherwise. Paths, not /proc/self/exe: the
// monitor resolves them, and its /proc/self/exe may be strata-monitor.
var exes = sync.OnceValue(func() (e struct{ self, monitor string }) {
	e.self, e.monitor = "/proc/self/exe", "/proc/self/exe"
	self, err := os.Executable()
	if err != nil {
		return e
	}
	e.self = self
	path := filepath.Join(filepath.Dir(self), MonitorExeName)
	if unix.Access(path, unix.X_OK) == nil {
		e.monitor = path
	}
	return e
})

// ownExe is a sealed copy of the monitor's executable (runtime.SealedExe)
// that every monitor this process launches inherits and runs its
// container's init from. Copying the binary costs several milliseconds;
// made once per process, in the background from the first
// ContainerCreate on, it is ready by the time the monitor starts instead
// of being made by each monitor on the critical path of `run`. One copy
// serves every container: it is sealed, so neither a monitor nor a
// container can change it.
var ownExe struct {
	once sync.Once
	done chan struct{}
	f    *os.File // nil if the copy failed: each monitor makes its own
}

// prefetchExe starts making the copy unless it was started before.
func prefetchExe() {
	ownExe.once.Do(func() {
		ownExe.done = make(chan struct{})
		go func() {
			defer close(ownExe.done)
			if f, err := runtime.SealedCopy(exes().monitor); err == nil {
				ownExe.f = f
			}
		}()
	})
}

// sealedExe waits for the copy and returns it, or nil if there is none;
// the caller must not close it.
func sealedExe() *os.File {
	prefetchExe()
	<-ownExe.done
	return ownExe.f
}
