package engine

import (
	"context"
	"errors"
	"os"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/strata-containers/strata/internal/network"
)

// buildNetworkMode is the network of a build's RUN steps: docker's
// default, the default bridge, unless host or none is asked for.
func buildNetworkMode(mode string) string {
	switch mode {
	case network.HostNetwork, network.NoneNetwork:
		return mode
	}
	return network.DefaultNetwork
}

// stepNetwork gives a RUN step its network. On the bridge the step is an
// endpoint of the default network under the scratch's ID, as a container
// would be (namespace made in advance, joined by path), with its hosts and
// resolv.conf written in the bundle; the returned func tears it down. The
// network manager's records name the step, so a build killed meanwhile is
// cleaned by the next build's sweep (sweepScratches) or the manager's own.
func (s *scratch) stepNetwork(ctx context.Context, mode string, sp *specs.Spec) (func(), error) {
	switch mode {
	case network.HostNetwork:
		s.hostNetworkFiles(sp)
		return func() {}, nil
	case network.NoneNetwork:
		return func() {}, nil
	}
	m, err := s.e.networks()
	if err != nil {
		return nil, err
	}
	req := network.Request{ContainerID: s.id, Hostname: sp.Hostname, FilesDir: s.bundle,
		Attachments: []network.Attachment{{Network: network.DefaultNetwork}}}
	st, err := m.Setup(ctx, req)
	if err != nil {
		return nil, err
	}
	setNetNSPath(sp, st.NSPath)
	files := network.FilesIn(s.bundle)
	s.bindStepFile(sp, "/etc/hosts", files.Hosts)
	s.bindStepFile(sp, "/etc/resolv.conf", files.ResolvConf)
	return func() { _ = s.teardownStepNetwork(context.WithoutCancel(ctx)) }, nil
}

// bindStepFile binds a file the network wrote over dest, read-only: it is
// the step's view, not part of its layer (the mount point, if the runtime
// had to make it, is dropped before the commit).
func (s *scratch) bindStepFile(sp *specs.Spec, dest, src string) {
	if _, err := os.Lstat(filepath.Join(s.Rootfs(), dest)); errors.Is(err, os.ErrNotExist) {
		s.placeholders = append(s.placeholders, dest)
	}
	sp.Mounts = append(sp.Mounts, specs.Mount{Destination: dest, Type: "bind", Source: src, Options: []string{"rbind", "ro"}})
}

// teardownStepNetwork frees what stepNetwork made for the step id: its
// veth, address, namespace; a throwaway root's bridge goes with the last
// endpoint. It is a no-op for a step that had no bridge network.
func (e *Engine) teardownStepNetwork(ctx context.Context, id string) error {
	m, err := e.networks()
	if err != nil {
		return err
	}
	return m.Teardown(ctx, id)
}

func (s *scratch) teardownStepNetwork(ctx context.Context) error {
	return s.e.teardownStepNetwork(ctx, s.id)
}
