package spec

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"testing"

	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/strata-containers/strata/internal/errdefs"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

const testID = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func busyboxImage() dockerspec.DockerOCIImage {
	var img dockerspec.DockerOCIImage
	img.Config.ImageConfig = ocispec.ImageConfig{
		Env: []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/opt/bin", "LANG=C"},
		Cmd: []string{"sh"},
	}
	return img
}

func entrypointImage() dockerspec.DockerOCIImage {
	img := busyboxImage()
	img.Config.Entrypoint = []string{"/docker-entrypoint.sh"}
	img.Config.Cmd = []string{"nginx", "-g", "daemon off;"}
	img.Config.WorkingDir = "/srv"
	return img
}

// TestGolden compares generated specs with testdata/<name>.json; run with
// -update to rewrite them after an intended change.
func TestGolden(t *testing.T) {
	cases := []struct {
		name string
		opts []Opt
	}{
		{"default", []Opt{WithImage(busyboxImage(), Process{Args: []string{"echo", "hello"}})}},
		{"entrypoint", []Opt{WithImage(entrypointImage(), Process{Env: []string{"LANG=fr_FR", "A=b"}})}},
		{"entrypoint-cleared", []Opt{WithImage(entrypointImage(), Process{EntrypointSet: true, WorkingDir: "/tmp"})}},
		{"caps", []Opt{WithCapabilities([]string{"net_admin", "CAP_SYS_TIME"}, []string{"MKNOD", "cap_kill"})}},
		{"caps-drop-all", []Opt{WithCapabilities([]string{"chown"}, []string{"ALL"})}},
		{"privileged", []Opt{WithPrivileged(true)}},
		{"limits", []Opt{
			WithResources(Resources{Memory: 64 << 20, NanoCPUs: 1500000000, CPUShares: 512, PidsLimit: 100}),
			WithReadonlyRootfs(true), WithHostname("web"),
			WithUser(User{UID: 1000, GID: 1000, AdditionalGids: []uint32{1000, 10}, Home: "/home/app"}),
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := Generate(testID, c.opts...)
			if err != nil {
				t.Fatal(err)
			}
			got, err := json.MarshalIndent(s, "", "\t")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			path := filepath.Join("testdata", c.name+".json")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("spec differs from %s (run with -update if intended):\n%s", path, got)
			}
		})
	}
}

func TestCommand(t *testing.T) {
	img := entrypointImage().Config
	cases := []struct {
		name string
		p    Process
		want []string
	}{
		{"image default", Process{}, []string{"/docker-entrypoint.sh", "nginx", "-g", "daemon off;"}},
		{"args replace cmd", Process{Args: []string{"sh"}}, []string{"/docker-entrypoint.sh", "sh"}},
		{"entrypoint replaced", Process{Entrypoint: []string{"env"}, EntrypointSet: true}, []string{"env"}},
		{"entrypoint replaced with args", Process{Entrypoint: []string{"env"}, EntrypointSet: true, Args: []string{"-i"}}, []string{"env", "-i"}},
		{"entrypoint cleared", Process{EntrypointSet: true}, []string{"nginx", "-g", "daemon off;"}},
		{"entrypoint cleared with args", Process{EntrypointSet: true, Args: []string{"ls"}}, []string{"ls"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Command(img, c.p)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
	if _, err := Command(dockerspec.DockerOCIImageConfig{}, Process{}); !errdefs.IsInvalid(err) {
		t.Errorf("no command: %v, want invalid", err)
	}
}

func TestNetworkModes(t *testing.T) {
	for _, mode := range []string{"", "none", "host"} {
		s, err := Generate(testID, WithNetwork(mode))
		if err != nil {
			t.Fatal(err)
		}
		hasNet := slices.ContainsFunc(s.Linux.Namespaces, func(ns specs.LinuxNamespace) bool {
			return ns.Type == specs.NetworkNamespace
		})
		if hasNet != (mode != "host") {
			t.Errorf("mode %q: network namespace %v", mode, hasNet)
		}
	}
	if _, err := Generate(testID, WithNetwork("nope")); !errdefs.IsNotFound(err) {
		t.Errorf("unknown network: %v, want not found", err)
	}
}

func TestCapabilityErrors(t *testing.T) {
	_, err := Generate(testID, WithCapabilities([]string{"NOPE"}, nil))
	if !errdefs.IsInvalid(err) || err.Error() != `unknown capability: "CAP_NOPE"` {
		t.Errorf("got %v", err)
	}
	caps, err := TweakCapabilities(DefaultCapabilities(), []string{"ALL"}, []string{"SYS_ADMIN"})
	if err != nil {
		t.Fatal(err)
	}
	if len(caps) != len(allCaps)-1 || slices.Contains(caps, "CAP_SYS_ADMIN") {
		t.Errorf("ALL minus SYS_ADMIN: %v", caps)
	}
}

func TestParseFlags(t *testing.T) {
	if n, err := ParseMemory("64m"); err != nil || n != 64<<20 {
		t.Errorf("64m: %d, %v", n, err)
	}
	_, err := ParseMemory("12XB")
	want := `invalid argument "12XB" for "-m, --memory" flag: invalid size: '12XB'`
	if !errdefs.IsInvalid(err) || err.Error() != want {
		t.Errorf("12XB: %v, want %s", err, want)
	}
	if n, err := ParseCPUs("1.5"); err != nil || n != 1500000000 {
		t.Errorf("1.5: %d, %v", n, err)
	}
	if _, err := ParseCPUs("lots"); !errdefs.IsInvalid(err) {
		t.Errorf("lots: %v", err)
	}
	if _, err := Generate(testID, WithResources(Resources{Memory: 1024})); !errdefs.IsInvalid(err) {
		t.Errorf("1k memory: %v", err)
	}
}

func TestEnv(t *testing.T) {
	lookup := func(k string) (string, bool) {
		if k == "HOST_VAR" {
			return "from-host", true
		}
		return "", false
	}
	got, err := ParseEnvFile("# comment\n\nA=1\nHOST_VAR\nUNSET_VAR\r\nB=x=y\n", lookup)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"A=1", "HOST_VAR=from-host", "B=x=y"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	if _, err := ParseEnv("=x", lookup); !errdefs.IsInvalid(err) {
		t.Errorf("=x: %v", err)
	}
}
