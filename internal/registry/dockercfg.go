package registry

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/strata-containers/strata/internal/atomicfile"
	"github.com/strata-containers/strata/internal/errdefs"
)

// dockerHubKey is the key Docker files Docker Hub's credentials under.
const dockerHubKey = "https://index.docker.io/v1/"

// DockerConfig is a Docker client config file (~/.docker/config.json): the
// credentials in "auths", or in a credential helper named by "credsStore"
// (all hosts) or "credHelpers" (per host), run as docker-credential-<name>
// with Docker's helper protocol. Keys strata does not know are kept as they
// are when the file is written back, so docker's settings survive a login.
type DockerConfig struct {
	path string
	raw  map[string]json.RawMessage
	// Auths are the inline credentials by registry key.
	Auths       map[string]dockerAuth
	CredsStore  string
	CredHelpers map[string]string
}

type dockerAuth struct {
	Auth          string `json:"auth,omitempty"` // base64 "user:password"
	IdentityToken string `json:"identitytoken,omitempty"`
}

// LoadDockerConfig reads the config at path; a missing file is an empty config.
func LoadDockerConfig(path string) (*DockerConfig, error) {
	c := &DockerConfig{path: path, raw: map[string]json.RawMessage{}, Auths: map[string]dockerAuth{}, CredHelpers: map[string]string{}}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading docker config %s: %w", path, err)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return c, nil
	}
	if err := json.Unmarshal(data, &c.raw); err != nil {
		return nil, errdefs.Invalid("parsing docker config %s: %w", path, err)
	}
	for key, dst := range map[string]any{"auths": &c.Auths, "credsStore": &c.CredsStore, "credHelpers": &c.CredHelpers} {
		if v, ok := c.raw[key]; ok {
			if err := json.Unmarshal(v, dst); err != nil {
				return nil, errdefs.Invalid("parsing docker config %s: %s: %w", path, key, err)
			}
		}
	}
	return c, nil
}

// configKey is the key a host's credentials are filed under.
func configKey(host string) string {
	if host == DockerHub || host == "index.docker.io" || host == dockerHubHost {
		return dockerHubKey
	}
	return host
}

// helper returns the credential helper for host, "" for the file itself.
func (c *DockerConfig) helper(host string) string {
	if h, ok := c.CredHelpers[host]; ok {
		return h
	}
	return c.CredsStore
}

// Get returns the credential for host (empty when there is none).
func (c *DockerConfig) Get(ctx context.Context, host string) (Credential, error) {
	key := configKey(host)
	if h := c.helper(host); h != "" {
		return helperGet(ctx, h, key)
	}
	a, ok := c.Auths[key]
	if !ok {
		a, ok = c.Auths["https://"+key]
	}
	if !ok || a.Auth == "" {
		return Credential{}, nil
	}
	raw, err := base64.StdEncoding.DecodeString(a.Auth)
	if err != nil {
		return Credential{}, errdefs.Invalid("docker config %s: auth of %s: %w", c.path, key, err)
	}
	user, pass, ok := strings.Cut(string(raw), ":")
	if !ok {
		return Credential{}, errdefs.Invalid("docker config %s: auth of %s is not user:password", c.path, key)
	}
	return Credential{Username: user, Secret: pass}, nil
}

// Store saves cred for host, in its helper or in the file, and writes the file.
func (c *DockerConfig) Store(ctx context.Context, host string, cred Credential) error {
	key := configKey(host)
	if h := c.helper(host); h != "" {
		if err := helperRun(ctx, h, "store", helperPayload{ServerURL: key, Username: cred.Username, Secret: cred.Secret}); err != nil {
			return err
		}
		c.Auths[key] = dockerAuth{} // docker records the host with an empty entry
		return c.save()
	}
	c.Auths[key] = dockerAuth{Auth: base64.StdEncoding.EncodeToString([]byte(cred.Username + ":" + cred.Secret))}
	return c.save()
}

// Erase removes host's credential; errdefs.ErrNotFound if there was none.
func (c *DockerConfig) Erase(ctx context.Context, host string) error {
	key := configKey(host)
	_, inFile := c.Auths[key]
	if h := c.helper(host); h != "" {
		if err := helperRun(ctx, h, "erase", key); err != nil && !inFile {
			return err
		}
	} else if !inFile {
		return errdefs.NotFound("not logged in to %s", host)
	}
	delete(c.Auths, key)
	return c.save()
}

// save writes the file atomically, keeping unknown keys, mode 0600 as docker.
func (c *DockerConfig) save() error {
	for key, v := range map[string]any{"auths": c.Auths} {
		data, err := json.Marshal(v)
		if err != nil {
			return err
		}
		c.raw[key] = data
	}
	data, err := json.MarshalIndent(c.raw, "", "\t")
	if err != nil {
		return fmt.Errorf("encoding docker config: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(c.path), 0o700); err != nil {
		return fmt.Errorf("creating %s: %w", filepath.Dir(c.path), err)
	}
	if err := atomicfile.WriteFile(c.path, data, 0o600); err != nil {
		return fmt.Errorf("writing docker config %s: %w", c.path, err)
	}
	return nil
}

// helperPayload is the helper protocol's JSON.
type helperPayload struct {
	ServerURL string `json:"ServerURL"`
	Username  string `json:"Username"`
	Secret    string `json:"Secret"`
}

func helperGet(ctx context.Context, helper, key string) (Credential, error) {
	out, err := helperOutput(ctx, helper, "get", key)
	if err != nil {
		if strings.Contains(err.Error(), "credentials not found") {
			return Credential{}, nil
		}
		return Credential{}, err
	}
	var p helperPayload
	if err := json.Unmarshal(out, &p); err != nil {
		return Credential{}, fmt.Errorf("credential helper %s: decoding answer: %w", helper, err)
	}
	return Credential{Username: p.Username, Secret: p.Secret}, nil
}

func helperRun(ctx context.Context, helper, verb string, input any) error {
	_, err := helperOutput(ctx, helper, verb, input)
	return err
}

// helperOutput runs docker-credential-<helper> <verb> with input on stdin
// (a string as is, anything else as JSON).
func helperOutput(ctx context.Context, helper, verb string, input any) ([]byte, error) {
	var in []byte
	if s, ok := input.(string); ok {
		in = []byte(s)
	} else {
		var err error
		if in, err = json.Marshal(input); err != nil {
			return nil, err
		}
	}
	cmd := exec.CommandContext(ctx, "docker-credential-"+helper, verb)
	cmd.Stdin = bytes.NewReader(in)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stdout.String() + " " + stderr.String())
		return nil, fmt.Errorf("credential helper %s %s: %s: %w", helper, verb, msg, err)
	}
	return stdout.Bytes(), nil
}
