package network

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"

	"github.com/strata-containers/strata/internal/network/firewall"
)

// Sweep reconciles the host with the store after a crash: it tears down
// the networking of containers for which alive is false, frees addresses
// no recorded container holds, and removes firewall rules whose owner is
// gone, bridges without containers included.
func (m *Manager) Sweep(ctx context.Context, alive func(id string) bool) error {
	var errs []error
	ents, _ := os.ReadDir(filepath.Dir(m.statePath("x")))
	for _, e := range ents {
		if id, ok := strings.CutSuffix(e.Name(), ".json"); ok && !alive(id) {
			errs = append(errs, m.Teardown(ctx, id))
		}
	}
	ns, err := m.List(ctx)
	if err != nil {
		return err
	}
	bridges := map[string]bool{}
	for _, n := range ns {
		if !n.IsBridge() {
			continue
		}
		has, err := m.sweepAllocations(ctx, n)
		errs = append(errs, err)
		if err == nil && (has || !m.ephemeral(n)) && BridgeIndex(n) != 0 {
			bridges[firewall.NetworkOwner(n.ID)] = true
		}
	}
	fw, err := m.firewall()
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	errs = append(errs, fw.Sweep(ctx, func(owner string) bool {
		if id, ok := strings.CutPrefix(owner, "ctr "); ok {
			_, err := os.Stat(m.statePath(id))
			return err == nil
		}
		return bridges[owner]
	}))
	return errors.Join(errs...)
}

// sweepAllocations frees n's addresses that no state file accounts for,
// removes an ephemeral bridge if no container is left on it, and reports
// whether any is.
func (m *Manager) sweepAllocations(ctx context.Context, n Network) (bool, error) {
	unlock, err := m.lockNetwork(ctx, n.ID)
	if err != nil {
		return false, err
	}
	defer unlock()
	al, err := m.Allocator(n)
	if err != nil {
		return false, err
	}
	defer al.Close()
	eps, err := al.Endpoints()
	if err != nil {
		return false, err
	}
	left := 0
	for _, ep := range eps {
		if _, err := os.Stat(m.statePath(ep.Container)); err == nil {
			left++
			continue
		}
		if err := m.release(ctx, n, ep.Container); err != nil {
			return false, err
		}
	}
	if left > 0 || !m.ephemeral(n) {
		return left > 0, nil
	}
	return false, removeBridge(n)
}

// reconcileFirewall removes the rules of owners that are gone: containers
// without a state file, networks without a record or a bridge. It takes no
// network's lock, so it may run under one.
func (m *Manager) reconcileFirewall(ctx context.Context, fw *firewall.Firewall) error {
	ns, err := m.list()
	if err != nil {
		return err
	}
	live := map[string]bool{}
	for _, n := range ns {
		if n.IsBridge() && BridgeIndex(n) != 0 {
			live[firewall.NetworkOwner(n.ID)] = true
		}
	}
	return fw.Sweep(ctx, func(owner string) bool {
		if id, ok := strings.CutPrefix(owner, "ctr "); ok {
			_, err := os.Stat(m.statePath(id))
			return err == nil
		}
		return live[owner]
	})
}

// StateIDs lists the containers that have a network state: those started
// and not yet released (or whose release a crash prevented).
func (m *Manager) StateIDs() []string {
	ents, _ := os.ReadDir(filepath.Dir(m.statePath("x")))
	var ids []string
	for _, e := range ents {
		if id, ok := strings.CutSuffix(e.Name(), ".json"); ok {
			ids = append(ids, id)
		}
	}
	return ids
}
