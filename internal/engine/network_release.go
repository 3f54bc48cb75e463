package engine

import (
	"context"
	"strings"

	"github.com/strata-containers/strata/internal/container"
	"github.com/strata-containers/strata/internal/network"
)

// A container's network lives from its start to its stop, as docker's:
// a stopped container holds no namespace, address or published port, so
// another container can publish its ports at once, and its next start
// sets everything up again.
//
// The monitor is the one process that sees the end (a stop, a kill, an
// exit of its own, the end of a restart policy), but it imports only leaf
// packages; it runs monitor.Config.Release, `network release <id>`, this
// binary re-executed, before its state says "exited" (so no start can
// race it: the container still counts as running) and after the runtime
// deleted the container (so no process is left in the namespace). Between
// the runs of a restart policy nothing is released: the monitor restarts
// the workload from the same bundle, whose spec names the same namespace.
// A monitor killed before it could run the release leaves the network to
// the container's next start (whose Setup tears down first), its removal,
// or the sweep of `network rm`.

// networkRelease is the argv the monitor of c runs at its end; nothing for
// an --rm container (its Cleanup removes it, network included) or one
// without a namespace of its own to wire.
func (e *Engine) networkRelease(c container.Container) []string {
	mode := c.HostConfig.NetworkMode
	if c.HostConfig.AutoRemove || mode == network.HostNetwork || mode == network.NoneNetwork ||
		strings.HasPrefix(mode, "container:") {
		return nil
	}
	return []string{"/proc/self/exe", "--root", e.cfg.Root, "--runroot", e.cfg.RunRoot,
		"--storage-driver", e.layers.Driver(), "network", "release", c.ID}
}

// ContainerNetworkRelease frees container id's network, as its removal
// does, but keeps its `network connect`s for the next start. It is
// idempotent, and takes no lock of the container: the monitor runs it
// while a start of that container may hold the lock, waiting for the
// monitor's answer.
func (e *Engine) ContainerNetworkRelease(ctx context.Context, id string) error {
	m, err := e.networks()
	if err != nil {
		return err
	}
	return m.Teardown(ctx, id)
}
