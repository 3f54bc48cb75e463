package spec

import (
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/strata-containers/strata/internal/errdefs"
)

func TestWithMounts(t *testing.T) {
	s, err := Generate("c", WithMounts([]specs.Mount{
		{Destination: "/data/sub", Type: "bind", Source: "/b"},
		{Destination: "/data/", Type: "bind", Source: "/a"},
		{Destination: "/dev/shm", Type: "tmpfs", Source: "tmpfs"},
	}))
	if err != nil {
		t.Fatal(err)
	}
	var dests []string
	for _, m := range s.Mounts {
		dests = append(dests, m.Destination)
	}
	got := strings.Join(dests, " ")
	want := "/proc /dev /dev/pts /sys /sys/fs/cgroup /dev/mqueue /data /data/sub /dev/shm"
	if got != want {
		t.Fatalf("mounts %s, want %s", got, want)
	}
	_, err = Generate("c", WithMounts([]specs.Mount{{Destination: "/x"}, {Destination: "/x/"}}))
	if !errdefs.IsInvalid(err) {
		t.Fatalf("duplicate destination: %v", err)
	}
}
