package container

import (
	"time"

	"github.com/strata-containers/strata/internal/monitor"
)

// Record is a container as created: what `docker inspect` shows apart from
// its state. It is written once at creation (config.json) and changes only
// on rename.
type Record struct {
	ID         string     `json:"ID"` // 64 hex digits
	Name       string     `json:"Name"`
	Created    time.Time  `json:"Created"`
	Image      string     `json:"Image"`     // image ID (sha256:...)
	ImageName  string     `json:"ImageName"` // as the user named it
	Path       string     `json:"Path"`
	Args       []string   `json:"Args"`
	Config     Config     `json:"Config"`
	HostConfig HostConfig `json:"HostConfig"`
	Driver     string     `json:"Driver"`
	LogPath    string     `json:"LogPath"`
	// Mounts: volumes, binds and tmpfs mounts, resolved at creation.
	MountList

	NetworkingConfig NetworkingConfig `json:"NetworkingConfig"`
	IDMappings       *IDMappings      `json:"IDMappings,omitempty"` // userns.go
}

// Config is the container's configuration as docker's Config shows it.
type Config struct {
	Hostname    string            `json:"Hostname"`
	User        string            `json:"User"`
	Env         []string          `json:"Env"`
	Cmd         []string          `json:"Cmd"`
	Entrypoint  []string          `json:"Entrypoint"`
	Image       string            `json:"Image"`
	WorkingDir  string            `json:"WorkingDir"`
	Labels      map[string]string `json:"Labels"`
	StopSignal  string            `json:"StopSignal,omitempty"`
	StopTimeout *int              `json:"StopTimeout,omitempty"` // seconds
	// Terminal and stdin, docker's fields (run -t, -i, -a).
	Tty          bool `json:"Tty"`
	OpenStdin    bool `json:"OpenStdin"`
	StdinOnce    bool `json:"StdinOnce"`
	AttachStdin  bool `json:"AttachStdin"`
	AttachStdout bool `json:"AttachStdout"`
	AttachStderr bool `json:"AttachStderr"`
	ImageVolumes
	ConfigNetwork
}

// HostConfig is how the container runs on this host (docker's HostConfig).
type HostConfig struct {
	AutoRemove     bool                  `json:"AutoRemove"`
	Privileged     bool                  `json:"Privileged"`
	ReadonlyRootfs bool                  `json:"ReadonlyRootfs"`
	NetworkMode    string                `json:"NetworkMode"`
	CapAdd         []string              `json:"CapAdd"`
	CapDrop        []string              `json:"CapDrop"`
	Memory         int64                 `json:"Memory"`
	NanoCPUs       int64                 `json:"NanoCpus"`
	CPUShares      int64                 `json:"CpuShares"`
	PidsLimit      int64                 `json:"PidsLimit"`
	LogConfig      LogConfig             `json:"LogConfig"`
	RestartPolicy  monitor.RestartPolicy `json:"RestartPolicy"`
	MountConfig
	Limits
	HostNetworkConfig
	UsernsConfig
	Devices []DeviceMapping `json:"Devices"` // --device (devices.go)
}

// LogConfig names the log driver and its options.
type LogConfig struct {
	Type   string            `json:"Type"`
	Config map[string]string `json:"Config"`
}

// Container is a record with its current state.
type Container struct {
	Record
	State monitor.State
}

// Running reports whether the container's process runs (paused and
// restarting containers count, as in docker).
func (c Container) Running() bool {
	switch c.State.Status {
	case monitor.StatusRunning, monitor.StatusPaused, monitor.StatusRestarting:
		return true
	}
	return false
}

// reconcile corrects a state that a dead monitor can no longer keep true:
// a container its monitor left "running" (kill -9, a reboot) has exited,
// with Docker's 255 for an unknown end.
func reconcile(st monitor.State) monitor.State {
	if !orphaned(st) {
		return st
	}
	st.Status, st.ExitCode, st.Pid = monitor.StatusExited, 255, 0
	if st.Error == "" {
		st.Error = "the container's monitor died"
	}
	return st
}

// orphaned reports whether st is one only a dead monitor leaves: the
// workload still marked running, paused or restarting, its monitor gone.
func orphaned(st monitor.State) bool {
	switch st.Status {
	case monitor.StatusRunning, monitor.StatusPaused, monitor.StatusRestarting:
		return !st.MonitorAlive()
	}
	return false
}
