package container

import specs "github.com/opencontainers/runtime-spec/specs-go"

// UsernsConfig is docker's HostConfig.UsernsMode: "host" when the
// container was asked to run in the host's user namespace (--userns=host),
// "" otherwise.
type UsernsConfig struct {
	UsernsMode string `json:"UsernsMode"`
}

// IDMappings is the user namespace a remapped container runs in
// (--userns-remap): its root is HostID of the first range on the host.
// Recorded at creation, as the writable layer's ownership depends on it.
type IDMappings struct {
	UIDMap []specs.LinuxIDMapping `json:"UIDMap"`
	GIDMap []specs.LinuxIDMapping `json:"GIDMap"`
}

// Remapped reports whether m maps the container's ids to a host range.
func (m *IDMappings) Remapped() bool { return m != nil && len(m.UIDMap) > 0 && len(m.GIDMap) > 0 }
