// Command strata is a daemonless, docker-compatible container engine.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/strata-containers/strata/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	root := cli.NewRootCommand(cli.Streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr}, os.LookupEnv)
	err := root.ExecuteContext(ctx)
	stop()
	os.Exit(cli.Exit(os.Stderr, err))
}
