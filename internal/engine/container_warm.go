package engine

import (
	"context"
	"sync"

	"github.com/strata-containers/strata/internal/runtime/cgroups"
)

// cgroupWarmer runs cgroups.Warm while at least one start is under way in
// this process: the first move of a container's init into its cgroups
// then skips the kernel's grace-period wait (8-20 ms, see cgroups.Warm),
// which the warmer pays in the background while the start prepares the
// bundle and launches the monitor.
var cgroupWarmer struct {
	mu     sync.Mutex
	users  int
	cancel context.CancelFunc
}

// warmCgroups starts the warmer unless it runs, and returns the function
// that ends this caller's use of it.
func warmCgroups() (done func()) {
	w := &cgroupWarmer
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.users == 0 {
		ctx, cancel := context.WithCancel(context.Background())
		w.cancel = cancel
		go cgroups.Warm(ctx)
	}
	w.users++
	return sync.OnceFunc(func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		if w.users--; w.users == 0 {
			w.cancel()
		}
	})
}
