// Command strata is a daemonless, docker-compatible container engine.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/strata-containers/strata/internal/cli"
	"github.com/strata-containers/strata/internal/monitor"
	"github.com/strata-containers/strata/internal/runtime"
)

func main() {
	// The same binary is the container init (re-executed by the runtime)
	// and the per-container monitor: both are decided before anything else.
	runtime.Init()
	if len(os.Args) > 1 && os.Args[1] == monitor.Verb {
		os.Exit(monitor.Main(os.Args[2:]))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	root := cli.NewRootCommand(cli.Streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr}, os.LookupEnv)
	err := root.ExecuteContext(ctx)
	stop()
	os.Exit(cli.Exit(os.Stderr, err))
}
