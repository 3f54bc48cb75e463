package cli

import "github.com/strata-containers/strata/internal/engine"

// deviceListFlag is a repeatable --device HOST[:CONTAINER][:PERMS], parsed
// as it is set, so that a bad one is a usage error naming the flag.
type deviceListFlag struct {
	listFlag
	devices []engine.DeviceMapping
}

func (f *deviceListFlag) Type() string { return "list" }
func (f *deviceListFlag) Set(s string) error {
	d, err := engine.ParseDevice(s)
	if err != nil {
		return err
	}
	f.devices = append(f.devices, d)
	return f.listFlag.Set(s)
}
