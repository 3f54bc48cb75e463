package network

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/strata-containers/strata/internal/atomicfile"
	"github.com/strata-containers/strata/internal/errdefs"
)

// Connections are a container's changes to the networks its record names
// (`network connect` and `disconnect`), kept by this package so that the
// container's record stays as it was created:
//
//	<root>/networks/connections/<container-id>.json
type Connections struct {
	Connected    []Attachment `json:"Connected"`    // networks added, in order
	Disconnected []string     `json:"Disconnected"` // IDs of record networks left
}

func (s *Store) connectionsPath(id string) string {
	return filepath.Join(s.root, "connections", id+".json")
}

// ReadConnections returns container id's connections (none if it has
// never been connected or disconnected).
func (s *Store) ReadConnections(id string) (Connections, error) {
	var c Connections
	data, err := os.ReadFile(s.connectionsPath(id))
	if errors.Is(err, os.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return c, err
	}
	return c, json.Unmarshal(data, &c)
}

// WriteConnections records container id's connections.
func (s *Store) WriteConnections(id string, c Connections) error {
	if err := os.MkdirAll(filepath.Dir(s.connectionsPath(id)), 0o700); err != nil {
		return err
	}
	data, err := json.Marshal(c)
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(s.connectionsPath(id), data, 0o644)
}

// RemoveConnections forgets container id's connections (on rm).
func (s *Store) RemoveConnections(id string) error {
	if err := os.Remove(s.connectionsPath(id)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// Connect attaches a running container, whose networking Setup made, to
// one more network: a veth into its namespace, an address, its files
// rewritten in place (the bind mounts keep their inodes).
func (m *Manager) Connect(ctx context.Context, req Request, a Attachment) (Endpoint, error) {
	st, err := m.ReadState(req.ContainerID)
	if err != nil {
		return Endpoint{}, err
	}
	n, err := m.Get(ctx, a.Network)
	if err != nil {
		return Endpoint{}, err
	}
	for _, ep := range st.Endpoints {
		if ep.NetworkID == n.ID {
			return ep, errdefs.Conflict("endpoint with name %s already exists in network %s", req.Name, n.Name)
		}
	}
	index := 0
	for _, ep := range st.Endpoints {
		var i int
		if _, err := fmt.Sscanf(ep.IfName, "eth%d", &i); err == nil && i >= index {
			index = i + 1
		}
	}
	ep, err := m.attach(ctx, req, a, index, st.NSPath)
	if err != nil {
		return ep, err
	}
	st.Endpoints = append(st.Endpoints, ep)
	if err := m.writeState(st); err != nil {
		return ep, err
	}
	return ep, WriteFiles(req, st)
}

// Disconnect detaches a running container from network ref: its veth is
// deleted (the namespace lives on), its address released.
func (m *Manager) Disconnect(ctx context.Context, req Request, ref string) error {
	st, err := m.ReadState(req.ContainerID)
	if err != nil {
		return err
	}
	n, err := m.Get(ctx, ref)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(st.Endpoints, func(ep Endpoint) bool { return ep.NetworkID == n.ID })
	if i < 0 {
		return errdefs.Invalid("container %s is not connected to network %s", req.Name, n.Name)
	}
	ep := st.Endpoints[i]
	if err := delLink(ep.HostIf); err != nil {
		return err
	}
	if err := m.detach(ctx, req.ContainerID, ep); err != nil {
		return err
	}
	st.Endpoints = slices.Delete(st.Endpoints, i, i+1)
	if err := m.writeState(st); err != nil {
		return err
	}
	return WriteFiles(req, st)
}
