package container

// MountList is the record's resolved mounts (embedded in Record, so its
// field sits in the record's JSON as docker's).
type MountList struct {
	Mounts []MountPoint `json:"Mounts,omitempty"`
}

// ImageVolumes is Config.Volumes: the image's VOLUME entries.
type ImageVolumes struct {
	Volumes map[string]struct{} `json:"Volumes"`
}

// MountConfig is the host config's mount options, as the user gave them
// (docker's HostConfig.Binds, Mounts, Tmpfs, VolumesFrom).
type MountConfig struct {
	Binds       []string          `json:"Binds"`
	Mounts      []HostMount       `json:"Mounts,omitempty"`
	Tmpfs       map[string]string `json:"Tmpfs,omitempty"`
	VolumesFrom []string          `json:"VolumesFrom"`
}

// MountPoint is one mount of a container as resolved at creation: a volume,
// a host directory or a tmpfs, and where it goes. The record keeps the
// list (Record.Mounts); inspect shows it as docker's Mounts, and the spec's
// mounts are made from it at every start.
type MountPoint struct {
	Type        string `json:"Type"` // "volume", "bind" or "tmpfs"
	Name        string `json:"Name,omitempty"`
	Source      string `json:"Source"`
	Destination string `json:"Destination"`
	Driver      string `json:"Driver,omitempty"`
	Mode        string `json:"Mode"`
	RW          bool   `json:"RW"`
	Propagation string `json:"Propagation"`
	// Anonymous volumes were made for this container (an image's VOLUME,
	// `-v /path`); `rm -v` removes them.
	Anonymous bool `json:"Anonymous,omitempty"`
	// CopyData fills an empty volume from the image at start (not with
	// nocopy).
	CopyData bool `json:"CopyData,omitempty"`
	// CreateSource makes a missing bind source at start (`-v`'s legacy
	// rule; --mount refuses a missing source instead).
	CreateSource bool `json:"CreateSource,omitempty"`
	// Options are a tmpfs's mount options (size=, mode=).
	Options []string `json:"Options,omitempty"`
}

// HostMount is one --mount of the host config, docker's mount.Mount.
type HostMount struct {
	Type          string         `json:"Type"`
	Source        string         `json:"Source,omitempty"`
	Target        string         `json:"Target"`
	ReadOnly      bool           `json:"ReadOnly,omitempty"`
	BindOptions   *BindOptions   `json:"BindOptions,omitempty"`
	VolumeOptions *VolumeOptions `json:"VolumeOptions,omitempty"`
	TmpfsOptions  *TmpfsOptions  `json:"TmpfsOptions,omitempty"`
}

// BindOptions are a bind mount's options.
type BindOptions struct {
	Propagation string `json:"Propagation,omitempty"`
}

// VolumeOptions are a volume mount's options.
type VolumeOptions struct {
	NoCopy       bool              `json:"NoCopy,omitempty"`
	Labels       map[string]string `json:"Labels,omitempty"`
	DriverConfig *DriverConfig     `json:"DriverConfig,omitempty"`
}

// DriverConfig names a volume driver and its options (volume-opt).
type DriverConfig struct {
	Name    string            `json:"Name,omitempty"`
	Options map[string]string `json:"Options,omitempty"`
}

// TmpfsOptions are a tmpfs mount's options.
type TmpfsOptions struct {
	SizeBytes int64  `json:"SizeBytes,omitempty"`
	Mode      uint32 `json:"Mode,omitempty"`
}
