package container

// DeviceMapping is one `--device` of a container: a host device node (or
// a directory of them) given to the container at PathInContainer, allowed
// in its device cgroup with CgroupPermissions (a subset of "rwm"), as
// docker's HostConfig.Devices.
type DeviceMapping struct {
	PathOnHost        string `json:"PathOnHost"`
	PathInContainer   string `json:"PathInContainer"`
	CgroupPermissions string `json:"CgroupPermissions"`
}
