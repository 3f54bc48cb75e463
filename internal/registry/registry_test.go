package registry

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/strata-containers/strata/internal/errdefs"
)

func TestParseChallenge(t *testing.T) {
	tests := []struct {
		in     string
		scheme string
		params map[string]string
	}{
		{`Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"`, "bearer",
			map[string]string{"realm": "https://auth.docker.io/token", "service": "registry.docker.io", "scope": "repository:library/busybox:pull"}},
		{`Basic realm="strata-test"`, "basic", map[string]string{"realm": "strata-test"}},
		{`Bearer realm=https://x/token, service=reg`, "bearer", map[string]string{"realm": "https://x/token", "service": "reg"}},
	}
	for _, tt := range tests {
		t.Run(tt.scheme, func(t *testing.T) {
			scheme, params := parseChallenge(tt.in)
			if scheme != tt.scheme {
				t.Fatalf("scheme %q, want %q", scheme, tt.scheme)
			}
			for k, v := range tt.params {
				if params[k] != v {
					t.Fatalf("%s = %q, want %q (all: %v)", k, params[k], v, params)
				}
			}
		})
	}
}

func TestRetryAfter(t *testing.T) {
	for _, tt := range []struct {
		header string
		want   time.Duration
		ok     bool
	}{{"2", 2 * time.Second, true}, {"", 0, false}, {"soon", 0, false}, {"100000", maxRetryAfter, true}} {
		resp := &http.Response{Header: http.Header{}}
		if tt.header != "" {
			resp.Header.Set("Retry-After", tt.header)
		}
		got, ok := retryAfter(resp)
		if got != tt.want || ok != tt.ok {
			t.Errorf("retryAfter(%q) = %v, %v; want %v, %v", tt.header, got, ok, tt.want, tt.ok)
		}
	}
}

func TestMediaType(t *testing.T) {
	for _, tt := range []struct{ header, body, want string }{
		{"application/vnd.oci.image.manifest.v1+json", `{}`, ocispec.MediaTypeImageManifest},
		{"application/json", `{"schemaVersion":2,"manifests":[]}`, ocispec.MediaTypeImageIndex},
		{"text/plain", `{"schemaVersion":1}`, "application/vnd.docker.distribution.manifest.v1+json"},
		{"", `{"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json"}`, "application/vnd.docker.distribution.manifest.list.v2+json"},
	} {
		if got := mediaType(tt.header, []byte(tt.body)); got != tt.want {
			t.Errorf("mediaType(%q, %s) = %q, want %q", tt.header, tt.body, got, tt.want)
		}
	}
}

func TestLocalAndInsecureHosts(t *testing.T) {
	c := New(Options{Insecure: []string{"myreg:5000", "other"}})
	for host, want := range map[string]bool{"localhost:5000": true, "127.0.0.1:5000": true, "127.1.2.3": true, "[::1]:5000": true, "example.com": false} {
		if got := isLocal(host); got != want {
			t.Errorf("isLocal(%s) = %v", host, got)
		}
	}
	for host, want := range map[string]bool{"myreg:5000": true, "other:443": true, "myreg:5001": false} {
		if got := c.isInsecure(host); got != want {
			t.Errorf("isInsecure(%s) = %v", host, got)
		}
	}
}

func TestDockerConfigAuths(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "docker", "config.json")
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	// A key strata does not know must survive a login.
	if err := os.WriteFile(path, []byte(`{"psFormat":"table {{.ID}}","auths":{"old:5000":{"auth":"dTpw"}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	dc, err := LoadDockerConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := dc.Get(ctx, "old:5000"); got != (Credential{Username: "u", Secret: "p"}) {
		t.Fatalf("old:5000 credential %+v", got)
	}
	if err := dc.Store(ctx, "docker.io", Credential{Username: "me", Secret: "pw"}); err != nil {
		t.Fatal(err)
	}
	var raw map[string]json.RawMessage
	data, _ := os.ReadFile(path)
	if err := json.Unmarshal(data, &raw); err != nil || string(raw["psFormat"]) != `"table {{.ID}}"` {
		t.Fatalf("unknown key lost: %s", data)
	}
	if !strings.Contains(string(raw["auths"]), dockerHubKey) {
		t.Fatalf("docker hub not filed under %s: %s", dockerHubKey, raw["auths"])
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Fatalf("config mode %v, want 0600", fi.Mode().Perm())
	}
	again, _ := LoadDockerConfig(path)
	if got, _ := again.Get(ctx, "docker.io"); got.Username != "me" || got.Secret != "pw" {
		t.Fatalf("docker.io credential %+v", got)
	}
	if err := again.Erase(ctx, "docker.io"); err != nil {
		t.Fatal(err)
	}
	if err := again.Erase(ctx, "docker.io"); !errdefs.IsNotFound(err) {
		t.Fatalf("second erase = %v, want not found", err)
	}
}

// TestCredentialHelper drives a docker-credential-* helper (a shell script
// keeping one credential in a file) through store, get and erase.
func TestCredentialHelper(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("needs /bin/sh for the fake helper")
	}
	ctx := context.Background()
	dir := t.TempDir()
	script := `#!/bin/sh
store="$(dirname "$0")/store.json"
case "$1" in
store) cat >"$store" ;;
get) read url; if [ -s "$store" ]; then cat "$store"; else echo "credentials not found in native keychain"; exit 1; fi ;;
erase) : >"$store" ;;
esac
`
	if err := os.WriteFile(filepath.Join(dir, "docker-credential-fake"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+":"+os.Getenv("PATH"))
	path := filepath.Join(dir, "config.json")
	if err := os.WriteFile(path, []byte(`{"credHelpers":{"reg.example:5000":"fake"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	dc, err := LoadDockerConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := dc.Get(ctx, "reg.example:5000"); err != nil || got != (Credential{}) {
		t.Fatalf("before store: %+v, %v", got, err)
	}
	want := Credential{Username: "bot", Secret: "tok"}
	if err := dc.Store(ctx, "reg.example:5000", want); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(path); strings.Contains(string(data), "dG9r") {
		t.Fatalf("secret written to config.json despite the helper: %s", data)
	}
	if got, err := dc.Get(ctx, "reg.example:5000"); err != nil || got != want {
		t.Fatalf("after store: %+v, %v", got, err)
	}
	if err := dc.Erase(ctx, "reg.example:5000"); err != nil {
		t.Fatal(err)
	}
	if got, _ := dc.Get(ctx, "reg.example:5000"); got != (Credential{}) {
		t.Fatalf("after erase: %+v", got)
	}
}
