package spec

import (
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestParseDevice(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Device
	}{
		{"/dev/sda", Device{"/dev/sda", "/dev/sda", "rwm"}},
		{"/dev/sda:/dev/xvda", Device{"/dev/sda", "/dev/xvda", "rwm"}},
		{"/dev/sda:r", Device{"/dev/sda", "/dev/sda", "r"}},
		{"/dev/sda:/dev/xvda:rw", Device{"/dev/sda", "/dev/xvda", "rw"}},
	} {
		got, err := ParseDevice(c.in)
		if err != nil || got != c.want {
			t.Errorf("ParseDevice(%q) = %+v, %v; want %+v", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "/dev/sda:/dev/xvda:rwx", "/dev/sda:xvda", "a:b:c:d", "/dev/sda:/dev/b:rr"} {
		if _, err := ParseDevice(bad); err == nil {
			t.Errorf("ParseDevice(%q) succeeded", bad)
		}
	}
}

// TestWithDevices reads the host's /dev/null: the node and its cgroup rule.
func TestWithDevices(t *testing.T) {
	s, err := Generate("x", WithDevices([]Device{{"/dev/null", "/dev/mynull", "rw"}}))
	if err != nil {
		t.Fatal(err)
	}
	d := s.Linux.Devices[len(s.Linux.Devices)-1]
	if d.Path != "/dev/mynull" || d.Type != "c" || d.Major != 1 || d.Minor != 3 || d.FileMode == nil {
		t.Errorf("device %+v, want /dev/mynull c 1:3 with a mode", d)
	}
	r := s.Linux.Resources.Devices[len(s.Linux.Resources.Devices)-1]
	if !r.Allow || r.Type != "c" || *r.Major != 1 || *r.Minor != 3 || r.Access != "rw" {
		t.Errorf("cgroup rule %+v, want allow c 1:3 rw", r)
	}
	if _, err := Generate("x", WithDevices([]Device{{"/etc/hostname", "/dev/x", "rwm"}})); err == nil {
		t.Error("a regular file was taken as a device")
	}
	s, err = Generate("x", WithHostDevices(true))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range s.Linux.Devices {
		if d.Path == "/dev/console" || d.Path == "/dev/pts/ptmx" {
			t.Errorf("host devices include %s", d.Path)
		}
	}
	if !hasDevice(s.Linux.Devices, "/dev/null") {
		t.Error("host devices lack /dev/null")
	}
}

func hasDevice(ds []specs.LinuxDevice, p string) bool {
	for _, d := range ds {
		if d.Path == p {
			return true
		}
	}
	return false
}
