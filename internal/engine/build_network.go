package engine

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/strata-containers/strata/internal/lockfile"
	"github.com/strata-containers/strata/internal/network"
)

// buildNetPrefix names a build's endpoint on the default bridge, in the
// network manager's records and in <runroot>/build/<id>.lock, held while
// the build lives.
const buildNetPrefix = "buildnet-"

// buildNetworkMode is the network of a build's RUN steps: docker's
// default, the default bridge, unless host or none is asked for.
func buildNetworkMode(mode string) string {
	switch mode {
	case network.HostNetwork, network.NoneNetwork:
		return mode
	}
	return network.DefaultNetwork
}

// buildNet is a build's one endpoint on the default bridge: made at its
// first RUN on the bridge, joined by every later one (each RUN is still a
// container of its own, as `--network container:` would make it), removed
// when the build ends. Setting up a namespace, veth and address per step
// cost ~100 ms each on a store whose bridge goes with its last endpoint.
type buildNet struct {
	mu       sync.Mutex
	id       string
	nsPath   string
	files    network.Files
	lock     *lockfile.Locker
	hostname string
}

// join gives the spec of a RUN step the build's endpoint: its namespace
// and hostname, its hosts and resolv.conf files (paths on the host).
func (n *buildNet) join(ctx context.Context, e *Engine, sp *specs.Spec) (network.Files, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.id == "" {
		if err := n.setup(ctx, e); err != nil {
			return network.Files{}, err
		}
	}
	setNetNSPath(sp, n.nsPath)
	sp.Hostname = n.hostname
	return n.files, nil
}

func (n *buildNet) setup(ctx context.Context, e *Engine) error {
	m, err := e.networks()
	if err != nil {
		return err
	}
	var rnd [16]byte
	_, _ = rand.Read(rnd[:])
	id := buildNetPrefix + hex.EncodeToString(rnd[:])
	dir := filepath.Join(e.buildRunDir(), id)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	lk, err := lockfile.New(dir + ".lock")
	if err != nil {
		return err
	}
	lk.Lock()
	hostname := id[len(buildNetPrefix) : len(buildNetPrefix)+12]
	st, err := m.Setup(ctx, network.Request{ContainerID: id, Hostname: hostname, FilesDir: dir,
		Attachments: []network.Attachment{{Network: network.DefaultNetwork}}})
	if err != nil {
		releaseBuildNet(context.WithoutCancel(ctx), e, id, lk)
		return err
	}
	n.id, n.nsPath, n.files, n.lock, n.hostname = id, st.NSPath, network.FilesIn(dir), lk, hostname
	return nil
}

// release tears the endpoint down, if the build made one.
func (n *buildNet) release(ctx context.Context, e *Engine) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.id != "" {
		releaseBuildNet(ctx, e, n.id, n.lock)
		n.id = ""
	}
}

// releaseBuildNet frees endpoint id (veth, address, namespace; a
// throwaway root's bridge goes with its last endpoint), its files and its
// lock, which lk holds.
func releaseBuildNet(ctx context.Context, e *Engine, id string, lk *lockfile.Locker) {
	m, err := e.networks()
	if err == nil {
		err = m.Teardown(ctx, id)
	}
	if err == nil { // else the lock file stays: the next build retries
		os.RemoveAll(filepath.Join(e.buildRunDir(), id))
		os.Remove(lk.Path())
	}
	lk.Unlock()
	lk.Close()
}

// sweepBuildNets frees the endpoints of builds that died (lock free).
func (e *Engine) sweepBuildNets(ctx context.Context) {
	locks, _ := filepath.Glob(filepath.Join(e.buildRunDir(), buildNetPrefix+"*.lock"))
	for _, p := range locks {
		lk, err := lockfile.New(p)
		if err != nil {
			continue
		}
		if !lk.TryLock() {
			lk.Close()
			continue
		}
		releaseBuildNet(ctx, e, strings.TrimSuffix(filepath.Base(p), ".lock"), lk)
	}
}

// buildNetAlive reports whether the build of endpoint id still runs: it
// holds <runroot>/build/<id>.lock. Builds have no container record, so
// this is the network sweep's liveness test for their endpoints.
func (e *Engine) buildNetAlive(id string) bool {
	p := filepath.Join(e.buildRunDir(), id+".lock")
	if _, err := os.Stat(p); err != nil {
		return !errors.Is(err, os.ErrNotExist)
	}
	lk, err := lockfile.New(p)
	if err != nil {
		return true
	}
	defer lk.Close()
	if !lk.TryLock() {
		return true
	}
	lk.Unlock() // the build died; sweepBuildNets removes the file
	return false
}

// stepNetwork gives a RUN step its network: the host's (with its resolver
// and hosts files), a namespace of its own with lo alone, or the build's
// endpoint on the default bridge.
func (s *scratch) stepNetwork(ctx context.Context, mode string, sp *specs.Spec) error {
	switch mode {
	case network.HostNetwork:
		s.hostNetworkFiles(sp)
		return nil
	case network.NoneNetwork:
		return nil
	}
	files, err := s.net.join(ctx, s.e, sp)
	if err != nil {
		return err
	}
	s.bindStepFile(sp, "/etc/hosts", files.Hosts)
	s.bindStepFile(sp, "/etc/resolv.conf", files.ResolvConf)
	return nil
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
