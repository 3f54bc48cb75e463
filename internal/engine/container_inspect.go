package engine

import (
	"context"
	"path/filepath"
	"time"

	"github.com/strata-containers/strata/internal/container"
	"github.com/strata-containers/strata/internal/monitor"
)

// ContainerInspect is `docker inspect` of a container, in docker's shape.
type ContainerInspect struct {
	ID              string `json:"Id"`
	Created         string
	Path            string
	Args            []string
	State           ContainerState
	Image           string
	ResolvConfPath  string
	HostnamePath    string
	HostsPath       string
	LogPath         string
	Name            string
	RestartCount    int
	Driver          string
	Platform        string
	MountLabel      string
	ProcessLabel    string
	AppArmorProfile string
	ExecIDs         []string
	HostConfig      container.HostConfig
	GraphDriver     GraphDriverData
	Mounts          []MountPoint
	Config          container.Config
	NetworkSettings *NetworkSettings // network_inspect.go
}

// ContainerState is the State of a container's inspect.
type ContainerState struct {
	Status     string
	Running    bool
	Paused     bool
	Restarting bool
	OOMKilled  bool
	Dead       bool
	Pid        int
	ExitCode   int
	Error      string
	StartedAt  string
	FinishedAt string
}

// zeroTime is how docker shows a time that never happened.
const zeroTime = "0001-01-01T00:00:00Z"

func inspectTime(t time.Time) string {
	if t.IsZero() {
		return zeroTime
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// ContainerInspect returns the container ref names, as docker inspects it.
func (e *Engine) ContainerInspect(ctx context.Context, ref string) (ContainerInspect, error) {
	c, err := e.containers.Get(ctx, ref)
	if err != nil {
		return ContainerInspect{}, err
	}
	st := c.State
	out := ContainerInspect{
		ID: c.ID, Created: inspectTime(c.Created), Path: c.Path, Args: c.Args,
		State: ContainerState{
			Status: st.Status, Running: c.Running(), Paused: st.Status == monitor.StatusPaused,
			Restarting: st.Status == monitor.StatusRestarting, OOMKilled: st.OOMKilled,
			Dead: st.Status == monitor.StatusDead, Pid: st.Pid, ExitCode: st.ExitCode, Error: st.Error,
			StartedAt: inspectTime(st.StartedAt), FinishedAt: inspectTime(st.FinishedAt),
		},
		Image: c.Image, LogPath: c.LogPath, Name: "/" + c.Name, Driver: e.layers.Driver(),
		Platform: "linux", RestartCount: st.RestartCount, ExecIDs: nil, HostConfig: c.HostConfig, Mounts: inspectMounts(c.Record), Config: c.Config,
		GraphDriver: GraphDriverData{Name: e.layers.Driver(), Data: map[string]string{}},
	}
	e.inspectContainerNetwork(c, &out)
	if out.Args == nil {
		out.Args = []string{}
	}
	if c.Running() {
		out.GraphDriver.Data["MergedDir"] = filepath.Join(e.bundle(c.ID), "rootfs")
	}
	return out, nil
}
