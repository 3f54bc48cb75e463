package cgroups

import specs "github.com/opencontainers/runtime-spec/specs-go"

// WithDefaultDeviceRules returns res with the device rules runc appends to
// every spec that restricts devices: mknod of any node (whether a node may
// be read or written is what the rules decide, not whether it may exist,
// so the spec's linux.devices can always be created) and use of the
// standard character devices every container gets. Rules apply in order,
// so these come after the spec's, whose usual first rule denies all. A
// spec without device rules leaves the cgroup open and res unchanged.
func WithDefaultDeviceRules(res *specs.LinuxResources) *specs.LinuxResources {
	if res == nil || len(res.Devices) == 0 {
		return res
	}
	out := *res
	out.Devices = append(append([]specs.LinuxDeviceCgroup{}, res.Devices...), defaultDeviceRules()...)
	return &out
}

func defaultDeviceRules() []specs.LinuxDeviceCgroup {
	allow := func(typ string, major, minor int64, access string) specs.LinuxDeviceCgroup {
		r := specs.LinuxDeviceCgroup{Allow: true, Type: typ, Access: access}
		if major >= 0 {
			r.Major = &major
		}
		if minor >= 0 {
			r.Minor = &minor
		}
		return r
	}
	return []specs.LinuxDeviceCgroup{
		allow("c", -1, -1, "m"), allow("b", -1, -1, "m"),
		allow("c", 1, 3, "rwm"), allow("c", 1, 5, "rwm"), allow("c", 1, 7, "rwm"), // null, zero, full
		allow("c", 1, 8, "rwm"), allow("c", 1, 9, "rwm"), allow("c", 5, 0, "rwm"), // random, urandom, tty
		allow("c", 5, 2, "rwm"), allow("c", 136, -1, "rwm"), // ptmx, pts/*
	}
}
