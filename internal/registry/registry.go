// Package registry is strata's client of the OCI distribution protocol (the
// Docker registry HTTP API v2): it resolves references to manifests, fetches
// blobs (ranged, resumed and retried), pushes blobs (HEAD first, cross-
// repository mount, monolithic or chunked upload) and manifests, and speaks
// the registries' authentication (anonymous, Basic, Bearer tokens).
//
// It owns no storage. What it fetches it verifies (every manifest and blob is
// checked against the digest it was asked for before a reader returns EOF),
// and hands to the caller as bytes or as a stream; where those go is the
// caller's business (package distribution). Credentials come from a lookup
// function, usually backed by a DockerConfig (~/.docker/config.json), whose
// location the caller resolves (package config).
//
// Transport rules, Docker's:
//   - https with the system roots, plus, per registry host, every *.crt in
//     <certs dir>/<host>/ as a CA and a <name>.cert/<name>.key pair as the
//     client certificate (/etc/docker/certs.d by default);
//   - a host listed in Options.Insecure (or every host with SkipTLSVerify)
//     gets unverified TLS, and plain HTTP after any https failure;
//   - localhost and 127.0.0.0/8 may use plain HTTP: when the https handshake
//     finds an HTTP server, the request is made again over http. A TLS server
//     on localhost is still verified unless insecure.
//
// Transient failures (connection resets, 5xx, 429) are retried with
// exponential backoff, 429 honouring Retry-After. A blob body cut short is
// resumed with a Range request from where it stopped.
package registry

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	dref "github.com/distribution/reference"
)

// DockerHub is the registry host Docker's references default to, and the
// host its API actually lives at.
const (
	DockerHub     = "docker.io"
	dockerHubHost = "registry-1.docker.io"
)

// Credential is what a user logs in with. An empty one is anonymous.
type Credential struct {
	Username string
	Secret   string // password or token
}

// Options configure a Client.
type Options struct {
	// CertsDirs hold per-host TLS material, <dir>/<host[:port]>/.
	CertsDirs []string
	// Insecure lists hosts (host or host:port) that may use HTTP or
	// unverified TLS.
	Insecure []string
	// SkipTLSVerify makes every host insecure (--tls-verify=false).
	SkipTLSVerify bool
	// Mirrors are tried, in order, before Docker Hub when pulling from it
	// ("https://mirror.example:5000" or "mirror.example:5000").
	Mirrors []string
	// Credentials returns the credential for a registry host; nil or an
	// empty Credential means anonymous.
	Credentials func(ctx context.Context, host string) (Credential, error)
	// Retries is how many times a transient failure is retried (default 5).
	Retries int
	// Backoff is the first retry's delay, doubled each time (default 500ms).
	Backoff time.Duration
	// ChunkSize makes blob uploads chunked, in pieces of this many bytes;
	// 0 uploads each blob in one PUT.
	ChunkSize int64
	// UserAgent is sent with every request.
	UserAgent string
}

// Client talks to registries. It keeps, per host, the chosen scheme and the
// tokens obtained, so that one pull authenticates once. Safe for concurrent use.
type Client struct {
	opts  Options
	mu    sync.Mutex
	hosts map[string]*host
}

// New returns a client.
func New(opts Options) *Client {
	if opts.Retries == 0 {
		opts.Retries = 5
	}
	if opts.Backoff == 0 {
		opts.Backoff = 500 * time.Millisecond
	}
	return &Client{opts: opts, hosts: map[string]*host{}}
}

// Repo is one repository of one registry.
type Repo struct {
	c    *Client
	h    *host
	name string // path in the registry: "library/busybox"
	// scopes are the token scopes requests of this Repo ask for.
	scopes []string
}

// Name returns the repository's path inside its registry.
func (r *Repo) Name() string { return r.name }

// Host returns the registry host the repository is reached at.
func (r *Repo) Host() string { return r.h.name }

// Repository returns the repository ref names. With push the tokens asked
// for allow pushing; mountFrom names other repositories of the same
// registry blobs may be mounted from. A pull from Docker Hub goes to the
// first mirror that answers, if any.
func (c *Client) Repository(ctx context.Context, ref dref.Named, push bool, mountFrom ...string) (*Repo, error) {
	domain, path := dref.Domain(ref), dref.Path(ref)
	actions := "pull"
	if push {
		actions = "pull,push"
	}
	scopes := []string{"repository:" + path + ":" + actions}
	for _, m := range mountFrom {
		scopes = append(scopes, "repository:"+m+":pull")
	}
	if domain == DockerHub && !push {
		for _, m := range c.opts.Mirrors {
			h := c.host(strings.TrimSuffix(stripScheme(m), "/"))
			if err := h.ping(ctx); err == nil {
				return &Repo{c: c, h: h, name: path, scopes: scopes}, nil
			}
		}
	}
	return &Repo{c: c, h: c.host(domain), name: path, scopes: scopes}, nil
}

func stripScheme(s string) string {
	s = strings.TrimPrefix(s, "https://")
	return strings.TrimPrefix(s, "http://")
}

// host returns the shared state for a registry host, creating it once.
func (c *Client) host(name string) *host {
	c.mu.Lock()
	defer c.mu.Unlock()
	if h, ok := c.hosts[name]; ok {
		return h
	}
	h := newHost(c, name)
	c.hosts[name] = h
	return h
}

// apiHost maps a reference's domain to the host serving its API.
func apiHost(domain string) string {
	if domain == DockerHub || domain == "index.docker.io" {
		return dockerHubHost
	}
	return domain
}

// isInsecure reports whether host may use HTTP or unverified TLS.
func (c *Client) isInsecure(host string) bool {
	if c.opts.SkipTLSVerify {
		return true
	}
	return slices.Contains(c.opts.Insecure, host) ||
		slices.Contains(c.opts.Insecure, hostname(host))
}

// isLocal reports whether host is on the loopback, where Docker allows HTTP.
func isLocal(host string) bool {
	name := hostname(host)
	if name == "localhost" {
		return true
	}
	ip := net.ParseIP(name)
	return ip != nil && ip.IsLoopback()
}

func hostname(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		return h
	}
	return host
}

// Error is a registry's refusal: the HTTP status and the first error of the
// body's {"errors": [...]}, when it has one.
type Error struct {
	Status  int
	Code    string // "MANIFEST_UNKNOWN", "UNAUTHORIZED", ...
	Message string
}

func (e *Error) Error() string {
	switch {
	case e.Code != "" && e.Message != "":
		return strings.ToLower(e.Code) + ": " + e.Message
	case e.Message != "":
		return e.Message
	}
	return fmt.Sprintf("unexpected status %d %s", e.Status, http.StatusText(e.Status))
}
