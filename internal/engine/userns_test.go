package engine

import (
	"os"
	"path/filepath"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/strata-containers/strata/internal/errdefs"
)

func TestParseRemap(t *testing.T) {
	dir := t.TempDir()
	oldUID, oldGID := subuidFile, subgidFile
	subuidFile, subgidFile = filepath.Join(dir, "subuid"), filepath.Join(dir, "subgid")
	t.Cleanup(func() { subuidFile, subgidFile = oldUID, oldGID })
	write := func(name, data string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("subuid", "alice:100000:65536\ndockremap:200000:1000\n")
	write("subgid", "alice:300000:65536\ndockremap:400000:1000\nstaff:500000:10\n")
	r := func(host, size uint32) []specs.LinuxIDMapping {
		return []specs.LinuxIDMapping{{ContainerID: 0, HostID: host, Size: size}}
	}
	for _, tc := range []struct {
		in         string
		uids, gids []specs.LinuxIDMapping
	}{
		{"", nil, nil},
		{"100000:65536", r(100000, 65536), r(100000, 65536)},
		{"alice", r(100000, 65536), r(300000, 65536)},
		{"default", r(200000, 1000), r(400000, 1000)},
		{"alice:staff", r(100000, 65536), r(500000, 10)},
	} {
		m, err := parseRemap(tc.in)
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		if tc.uids == nil {
			if m != nil {
				t.Errorf("%q: %+v, want none", tc.in, m)
			}
			continue
		}
		if !m.Remapped() || m.UIDMap[0] != tc.uids[0] || m.GIDMap[0] != tc.gids[0] {
			t.Errorf("%q: %+v, want %v %v", tc.in, m, tc.uids, tc.gids)
		}
	}
	for _, bad := range []string{"bob", "0:65536", "100000:0", "alice:nogroup"} {
		if _, err := parseRemap(bad); !errdefs.IsInvalid(err) {
			t.Errorf("%q: %v, want an invalid-argument error", bad, err)
		}
	}
}
