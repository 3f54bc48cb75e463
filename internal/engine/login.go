package engine

import (
	"context"

	"github.com/strata-containers/strata/internal/registry"
)

// LoginOptions are `docker login`'s.
type LoginOptions struct {
	Registry RegistryOptions
	Username string
	Password string
}

// Login checks the credential against server ("" is Docker Hub) and saves
// it in the docker config (or its credential helper), as `docker login`.
// It returns the host logged in to.
func Login(ctx context.Context, server string, opts LoginOptions) (string, error) {
	host := serverHost(server)
	client, err := registryClient(RegistryOptions{Registries: opts.Registry.Registries, SkipTLSVerify: opts.Registry.SkipTLSVerify})
	if err != nil {
		return "", err
	}
	cred := registry.Credential{Username: opts.Username, Secret: opts.Password}
	if err := client.Login(ctx, host, cred); err != nil {
		return "", err
	}
	dc, err := registry.LoadDockerConfig(opts.Registry.dockerConfigPath())
	if err != nil {
		return "", err
	}
	return host, dc.Store(ctx, host, cred)
}

// Logout removes server's credential from the docker config; a server not
// logged in to is errdefs.ErrNotFound. It returns the host.
func Logout(ctx context.Context, server string, opts RegistryOptions) (string, error) {
	host := serverHost(server)
	dc, err := registry.LoadDockerConfig(opts.dockerConfigPath())
	if err != nil {
		return "", err
	}
	return host, dc.Erase(ctx, host)
}
