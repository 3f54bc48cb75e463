package engine

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/strata-containers/strata/internal/container"
	"github.com/strata-containers/strata/internal/spec"
)

// DeviceMapping is one --device of a container.
type DeviceMapping = container.DeviceMapping

// ParseDevice parses a --device value (HOST[:CONTAINER][:PERMS]); a bad
// one is an invalid-argument error.
func ParseDevice(s string) (container.DeviceMapping, error) {
	d, err := spec.ParseDevice(s)
	return container.DeviceMapping(d), err
}

// deviceOpt gives a container its devices: every host device for
// --privileged, as docker does, then the --device ones.
func deviceOpt(h container.HostConfig) spec.Opt {
	devs := make([]spec.Device, len(h.Devices))
	for i, d := range h.Devices {
		devs[i] = spec.Device(d)
	}
	return func(s *specs.Spec) error {
		if err := spec.WithHostDevices(h.Privileged)(s); err != nil {
			return err
		}
		return spec.WithDevices(devs)(s)
	}
}
