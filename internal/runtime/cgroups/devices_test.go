package cgroups

import (
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestWithDefaultDeviceRules(t *testing.T) {
	if WithDefaultDeviceRules(nil) != nil {
		t.Error("nil resources changed")
	}
	open := &specs.LinuxResources{}
	if got := WithDefaultDeviceRules(open); got != open || len(got.Devices) != 0 {
		t.Error("resources without device rules changed: the cgroup must stay open")
	}
	deny := specs.LinuxDeviceCgroup{Allow: false, Access: "rwm"}
	res := &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{deny}}
	got := WithDefaultDeviceRules(res)
	if len(res.Devices) != 1 {
		t.Error("the spec's resources were modified")
	}
	if len(got.Devices) < 3 || deviceRule(got.Devices[0]) != "a *:* rwm" || deviceRule(got.Devices[1]) != "c *:* m" {
		t.Errorf("rules %v: want the spec's deny first, then mknod of any char device", got.Devices)
	}
}
