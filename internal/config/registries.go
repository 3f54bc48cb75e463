package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/strata-containers/strata/internal/errdefs"
)

// Registry settings: where Docker's client config and TLS material live, and
// strata's own registries file.
const (
	EnvDockerConfig       = "DOCKER_CONFIG"
	EnvRegistriesFile     = "STRATA_REGISTRIES_CONFIG"
	DefaultCertsDir       = "/etc/docker/certs.d"
	DefaultRegistriesFile = "/etc/strata/registries.json"
	// StrataCertsDir is strata's own certs directory, read after Docker's.
	StrataCertsDir = "/etc/strata/certs.d"
)

// DockerConfigDir returns the directory of Docker's client config
// (config.json): $DOCKER_CONFIG, else $HOME/.docker, as docker resolves it.
func DockerConfigDir(lookup func(string) (string, bool)) string {
	if v, ok := lookup(EnvDockerConfig); ok && v != "" {
		return v
	}
	if home, ok := lookup("HOME"); ok && home != "" {
		return filepath.Join(home, ".docker")
	}
	return "/root/.docker"
}

// RegistriesFile returns the registries file: $STRATA_REGISTRIES_CONFIG,
// else DefaultRegistriesFile.
func RegistriesFile(lookup func(string) (string, bool)) string {
	if v, ok := lookup(EnvRegistriesFile); ok && v != "" {
		return v
	}
	return DefaultRegistriesFile
}

// Registries is strata's registries file, by default
// /etc/strata/registries.json:
//
//	{
//	  "insecure-registries": ["myregistry:5000"],
//	  "registry-mirrors": ["https://mirror.example"],
//	  "certs-dirs": ["/etc/docker/certs.d", "/etc/strata/certs.d"]
//	}
//
// The keys are daemon.json's, so a docker setup can be copied over.
type Registries struct {
	Insecure []string `json:"insecure-registries,omitempty"`
	Mirrors  []string `json:"registry-mirrors,omitempty"`
	// CertsDirs hold per-registry TLS material (<dir>/<host>/ca.crt,
	// client.cert, client.key); default Docker's and strata's own.
	CertsDirs []string `json:"certs-dirs,omitempty"`
}

// LoadRegistries reads the registries file at path; a missing file gives
// the defaults.
func LoadRegistries(path string) (Registries, error) {
	var r Registries
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return r, fmt.Errorf("reading registries file %s: %w", path, err)
	default:
		if err := json.Unmarshal(data, &r); err != nil {
			return r, errdefs.Invalid("parsing registries file %s: %w", path, err)
		}
	}
	if len(r.CertsDirs) == 0 {
		r.CertsDirs = []string{DefaultCertsDir, StrataCertsDir}
	}
	return r, nil
}
