// Command strata-monitor is the per-container monitor of strata (see
// internal/monitor), as a small executable of its own: a monitor lives as
// long as its container, and the strata binary would keep megabytes of
// its text resident in each one. It is also the container's init
// (runtime.Init), re-executed from a sealed copy. strata finds it next to
// its own executable and falls back to running itself as the monitor.
package main

import (
	"os"

	"github.com/strata-containers/strata/internal/monitor"
	"github.com/strata-containers/strata/internal/runtime"
)

func main() {
	runtime.Init()
	args := os.Args[1:]
	if len(args) > 0 && args[0] == monitor.Verb {
		args = args[1:]
	}
	os.Exit(monitor.Main(args))
}
