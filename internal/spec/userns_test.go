package spec

import (
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestWithIDMappings(t *testing.T) {
	m := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
	s, err := Generate(testID, WithIDMappings(m, m))
	if err != nil {
		t.Fatal(err)
	}
	users := 0
	for _, ns := range s.Linux.Namespaces {
		if ns.Type == specs.UserNamespace {
			users++
		}
	}
	if users != 1 || len(s.Linux.UIDMappings) != 1 || s.Linux.GIDMappings[0].HostID != 100000 {
		t.Errorf("namespaces %v, uid map %v, gid map %v", s.Linux.Namespaces, s.Linux.UIDMappings, s.Linux.GIDMappings)
	}
	plain, err := Generate(testID, WithIDMappings(nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	for _, ns := range plain.Linux.Namespaces {
		if ns.Type == specs.UserNamespace {
			t.Error("user namespace without maps")
		}
	}
}
