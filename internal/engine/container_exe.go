package engine

import (
	"os"
	"sync"

	"github.com/strata-containers/strata/internal/runtime"
)

// ownExe is a sealed copy of this binary (runtime.SealedExe) that every
// monitor this process launches inherits and runs its container's init
// from. Copying the binary costs several milliseconds; made once per
// process, in the background from the first ContainerCreate on, it is
// ready by the time the monitor starts instead of being made by each
// monitor on the critical path of `run`. One copy serves every container:
// it is sealed, so neither a monitor nor a container can change it.
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
			if f, err := runtime.SealedExe(); err == nil {
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
