package engine

import (
	"context"
	"path/filepath"
	"strings"

	"github.com/strata-containers/strata/internal/config"
	"github.com/strata-containers/strata/internal/distribution"
	"github.com/strata-containers/strata/internal/registry"
)

// RegistryOptions say how to reach registries and where credentials are;
// the CLI fills them from package config.
type RegistryOptions struct {
	DockerConfigDir string // holds config.json
	Registries      config.Registries
	SkipTLSVerify   bool  // --tls-verify=false
	ChunkSize       int64 // > 0: chunked blob uploads
}

// Progress is one step of a pull or push (a layer's short ID and status).
type Progress = distribution.Progress

func (o RegistryOptions) dockerConfigPath() string {
	return filepath.Join(o.DockerConfigDir, "config.json")
}

// registryClient builds a client whose credentials come from the docker
// config, read once per command.
func registryClient(o RegistryOptions) (*registry.Client, error) {
	var dc *registry.DockerConfig
	if o.DockerConfigDir != "" {
		var err error
		if dc, err = registry.LoadDockerConfig(o.dockerConfigPath()); err != nil {
			return nil, err
		}
	}
	opts := registry.Options{
		CertsDirs:     o.Registries.CertsDirs,
		Insecure:      o.Registries.Insecure,
		SkipTLSVerify: o.SkipTLSVerify,
		Mirrors:       o.Registries.Mirrors,
		ChunkSize:     o.ChunkSize,
		UserAgent:     "strata",
	}
	if dc != nil {
		opts.Credentials = func(ctx context.Context, host string) (registry.Credential, error) {
			return dc.Get(ctx, host)
		}
	}
	return registry.New(opts), nil
}

func (e *Engine) distStores() distribution.Stores {
	return distribution.Stores{Content: e.content, Layers: e.layers, Images: e.images}
}

// serverHost normalises what `login` is given ("https://host/v1/", "host")
// to a registry host; "" is Docker Hub.
func serverHost(server string) string {
	s := strings.TrimPrefix(strings.TrimPrefix(server, "https://"), "http://")
	s, _, _ = strings.Cut(s, "/")
	switch s {
	case "", "index.docker.io", "registry-1.docker.io":
		return registry.DockerHub
	}
	return s
}
