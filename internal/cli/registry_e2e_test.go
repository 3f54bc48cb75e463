package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	treg "github.com/strata-containers/strata/internal/testutil/registry"
)

// regStore is a store whose commands see a docker config dir and a
// registries file of the test's own.
type regStore struct {
	*store
	env []string
}

func newRegStore(t *testing.T, certsDirs ...string) *regStore {
	t.Helper()
	s := newStore(t)
	dir := t.TempDir()
	regs, err := json.Marshal(map[string]any{"certs-dirs": append(certsDirs, "/nonexistent")})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "registries.json")
	if err := os.WriteFile(path, regs, 0o600); err != nil {
		t.Fatal(err)
	}
	return &regStore{store: s, env: []string{"DOCKER_CONFIG=" + filepath.Join(dir, "docker"), "STRATA_REGISTRIES_CONFIG=" + path}}
}

func (s *regStore) ok(stdin string, args ...string) string {
	s.t.Helper()
	cmd := s.command(strings.NewReader(stdin), args...)
	cmd.Env = append(cmd.Env, s.env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		s.t.Fatalf("strata %v: %v\nstdout: %s\nstderr: %s", args, err, out.String(), errb.String())
	}
	return out.String()
}

func (s *regStore) fails(args ...string) string {
	s.t.Helper()
	cmd := s.command(strings.NewReader(""), args...)
	cmd.Env = append(cmd.Env, s.env...)
	out, err := cmd.CombinedOutput()
	if err == nil {
		s.t.Fatalf("strata %v succeeded:\n%s", args, out)
	}
	return string(out)
}

var pushedLine = regexp.MustCompile(`(?m)^v1: digest: (sha256:[0-9a-f]{64}) size: \d+$`)

func requireTool(t *testing.T, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Skipf("needs %s (hack/deps.sh)", name)
	}
}

func TestRegistryPushPullSkopeoInterop(t *testing.T) {
	requireTool(t, "skopeo")
	r := treg.Start(t, treg.HTTP)
	s := newRegStore(t)
	name := r.Host + "/e2e/app:v1"
	layers := [][]byte{
		layerTar(t, map[string][]byte{"etc/hello": []byte("hello\n")}),
		layerTar(t, map[string][]byte{"data/blob": randomBytes(1, 300<<10)}),
	}
	archive := dockerArchive(t, testImage{tags: []string{name}, layers: layers})
	s.ok("", "load", "-i", writeFile(t, "app.tar", archive))
	// Uncompressed layer blobs need not be kept: push rebuilds them from
	// the layer store.
	for _, l := range layers {
		if err := os.Remove(filepath.Join(s.root, "content", "blobs", "sha256", sha(l))); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	out := s.ok("", "push", name)
	m := pushedLine.FindStringSubmatch(out)
	if m == nil || !strings.Contains(out, "The push refers to repository ["+r.Host+"/e2e/app]") {
		t.Fatalf("push output:\n%s", out)
	}
	pushed := m[1]

	if got := skopeoDigest(t, "docker://"+name); got != pushed {
		t.Fatalf("skopeo inspect says %s, strata pushed %s", got, pushed)
	}
	copied := r.Host + "/e2e/copied:v1"
	// --preserve-digests: strata pushes the loaded uncompressed layers as
	// they are, which skopeo would otherwise gzip on the way.
	if out, err := exec.Command("skopeo", "copy", "--preserve-digests", "--src-tls-verify=false", "--dest-tls-verify=false",
		"docker://"+name, "docker://"+copied).CombinedOutput(); err != nil {
		t.Fatalf("skopeo copy: %v\n%s", err, out)
	}
	if got := skopeoDigest(t, "docker://"+copied); got != pushed {
		t.Fatalf("skopeo copy changed the digest: %s, want %s", got, pushed)
	}

	dst := newRegStore(t)
	out = dst.ok("", "pull", copied)
	for _, want := range []string{"v1: Pulling from e2e/copied", ": Pulling fs layer", ": Pull complete",
		"Digest: " + pushed, "Status: Downloaded newer image for " + copied, r.Host + "/e2e/copied:v1"} {
		if !strings.Contains(out, want) {
			t.Fatalf("pull output lacks %q:\n%s", want, out)
		}
	}
	if out := dst.ok("", "pull", copied); !strings.Contains(out, "Status: Image is up to date for "+copied) {
		t.Fatalf("second pull output:\n%s", out)
	}
	if out := dst.ok("", "pull", "-q", copied); lines(out)[0] != copied || len(lines(out)) != 1 {
		t.Fatalf("pull -q printed %q, want only the reference", out)
	}
	if got := dst.ok("", "images", "--digests", "--format", "{{.Digest}}", r.Host+"/e2e/copied"); !strings.Contains(got, pushed) {
		t.Fatalf("images --digests after pull: %q, want %s", got, pushed)
	}

	// tag + push to another registry copies the image, digest and all.
	other := treg.Start(t, treg.HTTP)
	moved := other.Host + "/moved/app:v1"
	dst.ok("", "tag", copied, moved)
	if m := pushedLine.FindStringSubmatch(dst.ok("", "push", moved)); m == nil || m[1] != pushed {
		t.Fatalf("push to the second registry: %v, want digest %s", m, pushed)
	}
	if got := skopeoDigest(t, "docker://"+moved); got != pushed {
		t.Fatalf("second registry has %s, want %s", got, pushed)
	}
}

func skopeoDigest(t *testing.T, ref string) string {
	t.Helper()
	out, err := exec.Command("skopeo", "inspect", "--tls-verify=false", ref).Output()
	if err != nil {
		t.Fatalf("skopeo inspect %s: %v", ref, err)
	}
	var v struct{ Digest string }
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatal(err)
	}
	return v.Digest
}

func TestRegistryPullsWhatUmociBuilt(t *testing.T) {
	requireTool(t, "skopeo")
	requireTool(t, "umoci")
	r := treg.Start(t, treg.HTTP)
	dir := t.TempDir()
	layout, bundle := filepath.Join(dir, "layout"), filepath.Join(dir, "bundle")
	run := func(name string, args ...string) {
		t.Helper()
		if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, out)
		}
	}
	run("umoci", "init", "--layout", layout)
	run("umoci", "new", "--image", layout+":v1")
	run("umoci", "unpack", "--image", layout+":v1", bundle)
	if err := os.WriteFile(filepath.Join(bundle, "rootfs", "from-umoci"), []byte("umoci was here\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	run("umoci", "repack", "--image", layout+":v1", bundle)
	name := r.Host + "/e2e/umoci:v1"
	run("skopeo", "copy", "--dest-tls-verify=false", "oci:"+layout+":v1", "docker://"+name)

	s := newRegStore(t)
	s.ok("", "pull", name)
	found, err := filepath.Glob(filepath.Join(s.root, "layers", "*", "layers", "*", "diff", "from-umoci"))
	if err != nil || len(found) == 0 {
		t.Fatalf("from-umoci not in the layer store (%v)", err)
	}
	if data, _ := os.ReadFile(found[0]); string(data) != "umoci was here\n" {
		t.Fatalf("from-umoci holds %q", data)
	}
}

func TestRegistryLoginLogout(t *testing.T) {
	r := treg.Start(t, treg.TLSAuth)
	s := newRegStore(t, r.CertsDir)
	name := r.Host + "/e2e/private:v1"
	archive := dockerArchive(t, testImage{tags: []string{name}, layers: [][]byte{
		layerTar(t, map[string][]byte{"etc/secret": []byte("s\n")}),
	}})
	s.ok("", "load", "-i", writeFile(t, "p.tar", archive))
	if out := s.fails("push", name); !strings.Contains(out, "unauthorized") {
		t.Fatalf("anonymous push: %s", out)
	}
	if out := s.fails("login", "-u", treg.User, "--password-stdin", r.Host); !strings.Contains(out, "password") {
		t.Fatalf("login without a password: %s", out)
	}
	if out := s.ok(treg.Password+"\n", "login", "-u", treg.User, "--password-stdin", r.Host); strings.TrimSpace(out) != "Login Succeeded" {
		t.Fatalf("login printed %q", out)
	}
	cfgPath := filepath.Join(strings.TrimPrefix(s.env[0], "DOCKER_CONFIG="), "config.json")
	if auths := dockerAuths(t, cfgPath); !slices.Contains(auths, r.Host) {
		t.Fatalf("config.json auths %v lacks %s", auths, r.Host)
	}
	if out := s.ok("", "push", name); !pushedLine.MatchString(out) {
		t.Fatalf("push after login:\n%s", out)
	}
	if out := s.ok("", "logout", r.Host); strings.TrimSpace(out) != "Removing login credentials for "+r.Host {
		t.Fatalf("logout printed %q", out)
	}
	if auths := dockerAuths(t, cfgPath); slices.Contains(auths, r.Host) {
		t.Fatalf("config.json still has %s after logout", r.Host)
	}
	if out := s.fails("pull", name); !strings.Contains(out, "unauthorized") {
		t.Fatalf("pull after logout: %s", out)
	}
}

func dockerAuths(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Auths map[string]json.RawMessage `json:"auths"`
	}
	if err := json.Unmarshal(data, &cfg); err != nil {
		t.Fatal(err)
	}
	var out []string
	for k := range cfg.Auths {
		out = append(out, k)
	}
	return out
}

func TestRegistryAllTags(t *testing.T) {
	r := treg.Start(t, treg.HTTP)
	s := newRegStore(t)
	repo := r.Host + "/e2e/tags"
	archive := dockerArchive(t,
		testImage{tags: []string{repo + ":v1"}, layers: [][]byte{layerTar(t, map[string][]byte{"v": []byte("1")})}},
		testImage{tags: []string{repo + ":v2"}, layers: [][]byte{layerTar(t, map[string][]byte{"v": []byte("2")})}},
	)
	s.ok("", "load", "-i", writeFile(t, "tags.tar", archive))
	out := s.ok("", "push", "--all-tags", repo)
	if !strings.Contains(out, "v1: digest: ") || !strings.Contains(out, "v2: digest: ") {
		t.Fatalf("push --all-tags:\n%s", out)
	}
	dst := newRegStore(t)
	dst.ok("", "pull", "-a", "-q", repo)
	got := lines(dst.ok("", "images", "--format", "{{.Tag}}", repo))
	slices.Sort(got)
	if !slices.Equal(got, []string{"v1", "v2"}) {
		t.Fatalf("after pull -a, images shows tags %q", got)
	}
	if out := dst.fails("pull", "-a", repo+":v1"); !strings.Contains(out, "tag can't be used with --all-tags/-a") {
		t.Fatalf("pull -a with a tag: %s", out)
	}
}
