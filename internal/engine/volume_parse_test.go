package engine

import (
	"reflect"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/strata-containers/strata/internal/container"
	"github.com/strata-containers/strata/internal/errdefs"
)

func TestParseBind(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want container.MountPoint
	}{
		{"/data", container.MountPoint{Type: "volume", Destination: "/data", Driver: "local", RW: true, Anonymous: true, CopyData: true}},
		{"vol:/data/", container.MountPoint{Type: "volume", Name: "vol", Destination: "/data", Driver: "local", Mode: "z", RW: true, CopyData: true}},
		{"vol:/data:ro,nocopy", container.MountPoint{Type: "volume", Name: "vol", Destination: "/data", Driver: "local", Mode: "ro,nocopy"}},
		{"/srv//www:/www", container.MountPoint{Type: "bind", Source: "/srv/www", Destination: "/www", RW: true, Propagation: "rprivate", CreateSource: true}},
		{"/srv:/srv:ro,rshared,z", container.MountPoint{Type: "bind", Source: "/srv", Destination: "/srv", Mode: "ro,rshared,z", Propagation: "rshared", CreateSource: true}},
	} {
		got, err := parseBind(tt.in)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("parseBind(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"vol:rel", "/a:/", "a:b:c:d", "/a:/b:bogus", "vol:/b:rshared", "/a:/b:nocopy"} {
		if _, err := parseBind(bad); !errdefs.IsInvalid(err) {
			t.Errorf("parseBind(%q): %v, want invalid", bad, err)
		}
	}
}

func TestParseMount(t *testing.T) {
	m, err := ParseMount(`type=volume,src=v,dst=/d,readonly,volume-nocopy,volume-label=a=b,"volume-opt=o=size=1m,uid=1",volume-opt=type=tmpfs`)
	if err != nil {
		t.Fatal(err)
	}
	vo := m.VolumeOptions
	if m.Source != "v" || m.Target != "/d" || !m.ReadOnly || vo == nil || !vo.NoCopy || vo.Labels["a"] != "b" ||
		vo.DriverConfig.Options["o"] != "size=1m,uid=1" || vo.DriverConfig.Options["type"] != "tmpfs" {
		t.Fatalf("ParseMount = %+v (%+v)", m, vo)
	}
	m, err = ParseMount("type=tmpfs,destination=/t,tmpfs-size=64m,tmpfs-mode=1770")
	if err != nil || m.TmpfsOptions.SizeBytes != 64<<20 || m.TmpfsOptions.Mode != 0o1770 {
		t.Fatalf("ParseMount(tmpfs) = %+v, %v", m, err)
	}
	mp, err := mountPoint(m)
	if err != nil || !reflect.DeepEqual(mp.Options, []string{"size=67108864", "mode=1770"}) {
		t.Fatalf("mountPoint(tmpfs) = %+v, %v", mp, err)
	}
	for _, bad := range []string{"src=v", "type=nfs,dst=/x", "type=bind,dst=/x,tmpfs-size=1m", "dst=/x,bogus=1",
		"dst=/x,readonly=maybe", "type=bind,dst=/x,bind-propagation=sideways"} {
		if _, err := ParseMount(bad); !errdefs.IsInvalid(err) {
			t.Errorf("ParseMount(%q): %v, want invalid", bad, err)
		}
	}
	for _, bad := range []Mount{{Type: "bind", Target: "/x"}, {Type: "bind", Source: "rel", Target: "/x"}, {Type: "tmpfs", Source: "s", Target: "/x"}} {
		if _, err := mountPoint(bad); !errdefs.IsInvalid(err) {
			t.Errorf("mountPoint(%+v): %v, want invalid", bad, err)
		}
	}
}

func TestSpecMounts(t *testing.T) {
	rec := container.Record{MountList: container.MountList{Mounts: []container.MountPoint{
		{Type: "volume", Source: "/v/_data", Destination: "/data", RW: true},
		{Type: "bind", Source: "/h", Destination: "/h", Propagation: "rslave"},
		{Type: "tmpfs", Destination: "/t", RW: true, Options: []string{"size=1024"}},
	}}}
	rec.HostConfig.Tmpfs = map[string]string{"/run": "exec,size=1m"}
	want := []specs.Mount{
		{Destination: "/data", Type: "bind", Source: "/v/_data", Options: []string{"rbind", "rw", "rprivate"}},
		{Destination: "/h", Type: "bind", Source: "/h", Options: []string{"rbind", "ro", "rslave"}},
		{Destination: "/t", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "nodev", "noexec", "size=1024"}},
		{Destination: "/run", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "nodev", "exec", "size=1m"}},
	}
	if got := specMounts(rec); !reflect.DeepEqual(got, want) {
		t.Fatalf("specMounts =\n%+v\nwant\n%+v", got, want)
	}
}
