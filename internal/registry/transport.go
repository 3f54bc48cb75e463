package registry

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/strata-containers/strata/internal/errdefs"
)

// host is what a Client knows of one registry host: how to reach it and
// which authorizations it granted.
type host struct {
	c      *Client
	name   string // as in references: "docker.io", "127.0.0.1:5000"
	api    string // where the API is: "registry-1.docker.io"
	client *http.Client
	plain  *http.Client // for plain HTTP, when allowed
	auth   *authorizer

	mu     sync.Mutex
	scheme string // "https" or "http" once known; "" before the first request
}

func newHost(c *Client, name string) *host {
	h := &host{c: c, name: name, api: apiHost(name)}
	h.client = &http.Client{Transport: h.transport()}
	if c.isInsecure(h.api) || isLocal(h.api) {
		h.plain = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	}
	h.auth = newAuthorizer(h)
	return h
}

// transport builds the https transport for the host: system roots plus the
// certs directories' CAs, the client certificate if one is there, and no
// verification for insecure hosts.
func (h *host) transport() http.RoundTripper {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 8
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if h.c.isInsecure(h.api) {
		cfg.InsecureSkipVerify = true
	}
	pool, certs := h.certsDirMaterial()
	cfg.RootCAs = pool
	cfg.Certificates = certs
	t.TLSClientConfig = cfg
	return t
}

// certsDirMaterial reads <dir>/<host>/ in every certs directory: *.crt are
// CAs added to the system roots, <x>.cert + <x>.key a client certificate.
// Unreadable files are skipped, as Docker does, so a broken directory
// degrades to the system roots; the TLS error then names the host.
func (h *host) certsDirMaterial() (*x509.CertPool, []tls.Certificate) {
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	var certs []tls.Certificate
	for _, dir := range h.c.opts.CertsDirs {
		d := filepath.Join(dir, h.name)
		entries, err := os.ReadDir(d)
		if err != nil {
			continue
		}
		for _, e := range entries {
			p := filepath.Join(d, e.Name())
			switch filepath.Ext(e.Name()) {
			case ".crt":
				if pem, err := os.ReadFile(p); err == nil {
					pool.AppendCertsFromPEM(pem)
				}
			case ".cert":
				key := strings.TrimSuffix(p, ".cert") + ".key"
				if c, err := tls.LoadX509KeyPair(p, key); err == nil {
					certs = append(certs, c)
				}
			}
		}
	}
	return pool, certs
}

// request is a request that can be sent again: body opens a fresh body for
// each attempt (nil: no body).
type request struct {
	method string
	path   string // under /v2/, or an absolute URL (upload locations, token realms)
	header http.Header
	body   func() (io.ReadCloser, error)
	size   int64
	// noAuth skips the registry's authorization (foreign layer URLs).
	noAuth bool
	// scopes are the token scopes asked for on a 401.
	scopes []string
}

// url returns the absolute URL of r against the host's chosen scheme.
func (h *host) url(r *request) string {
	if isAbsolute(r.path) {
		return r.path
	}
	return h.currentScheme() + "://" + h.api + r.path
}

func isAbsolute(path string) bool {
	return strings.HasPrefix(path, "http://") || strings.HasPrefix(path, "https://")
}

func (h *host) currentScheme() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.scheme == "" {
		return "https"
	}
	return h.scheme
}

// ping finds out how to reach the host (https, or http where allowed) with
// GET /v2/. Any HTTP answer, 401 included, means the host is there.
func (h *host) ping(ctx context.Context) error {
	resp, err := h.do(ctx, &request{method: http.MethodGet, path: "/v2/", noAuth: true})
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}

// do sends r, retrying transient failures with backoff and authorizing on a
// 401 (once). The caller closes the response body; every status is returned
// to the caller except those retried to exhaustion, which become errors.
func (h *host) do(ctx context.Context, r *request) (*http.Response, error) {
	authorized := false
	for attempt := 0; ; attempt++ {
		resp, err := h.send(ctx, r)
		if err != nil {
			if ctx.Err() != nil || attempt >= h.c.opts.Retries || !transient(err) {
				return nil, errdefs.Unavailable("%s %s: %w", r.method, h.url(r), err)
			}
			if err := h.sleep(ctx, h.backoff(attempt)); err != nil {
				return nil, err
			}
			continue
		}
		switch {
		case resp.StatusCode == http.StatusUnauthorized && !r.noAuth && !authorized:
			authorized = true
			challenge := resp.Header.Values("WWW-Authenticate")
			drain(resp)
			if err := h.auth.answer(ctx, challenge, r.scopes); err != nil {
				return nil, err
			}
			attempt-- // authorizing is not a retry
			continue
		case retryable(resp.StatusCode) && attempt < h.c.opts.Retries:
			wait := h.backoff(attempt)
			if d, ok := retryAfter(resp); ok {
				wait = d
			}
			drain(resp)
			if err := h.sleep(ctx, wait); err != nil {
				return nil, err
			}
			continue
		}
		return resp, nil
	}
}

// send makes one attempt, falling back to http where the host allows it:
// an insecure host after any https failure, a loopback one when https met
// an HTTP server (a TLS server on loopback that fails verification is an
// error, not a reason to talk to it in clear).
func (h *host) send(ctx context.Context, r *request) (*http.Response, error) {
	u := h.url(r)
	resp, err := h.sendTo(ctx, u, r)
	if err == nil || h.plain == nil || isAbsolute(r.path) || !strings.HasPrefix(u, "https://") {
		return resp, err
	}
	if isHTTPServer(err) || (h.c.isInsecure(h.api) && ctx.Err() == nil) {
		h.mu.Lock()
		h.scheme = "http"
		h.mu.Unlock()
		return h.sendTo(ctx, h.url(r), r)
	}
	return resp, err
}

// sendTo sends r to the URL u.
func (h *host) sendTo(ctx context.Context, u string, r *request) (*http.Response, error) {
	c := h.client
	if strings.HasPrefix(u, "http://") && h.plain != nil {
		c = h.plain
	}
	var body io.ReadCloser
	if r.body != nil {
		b, err := r.body()
		if err != nil {
			return nil, err
		}
		body = b
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u, body)
	if err != nil {
		if body != nil {
			body.Close()
		}
		return nil, errdefs.Invalid("building request %s %s: %w", r.method, u, err)
	}
	if body != nil {
		req.ContentLength = r.size
	}
	for k, v := range r.header {
		req.Header[k] = v
	}
	if h.c.opts.UserAgent != "" {
		req.Header.Set("User-Agent", h.c.opts.UserAgent)
	}
	if !r.noAuth {
		if a := h.auth.header(r.scopes); a != "" {
			req.Header.Set("Authorization", a)
		}
	}
	return c.Do(req)
}

// isHTTPServer reports an https attempt that reached a plain HTTP server.
func isHTTPServer(err error) bool {
	var rh tls.RecordHeaderError
	return errors.As(err, &rh) || strings.Contains(err.Error(), "server gave HTTP response to HTTPS client")
}

// transient reports network failures worth retrying: resets, early EOFs,
// timeouts. TLS verification failures and refused connections are not.
func transient(err error) bool {
	var cv *tls.CertificateVerificationError
	if errors.As(err, &cv) || isHTTPServer(err) {
		return false
	}
	s := err.Error()
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		strings.Contains(s, "connection reset") || strings.Contains(s, "broken pipe") ||
		strings.Contains(s, "timeout") || strings.Contains(s, "EOF")
}

func retryable(status int) bool {
	switch status {
	case http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// maxRetryAfter caps a server's Retry-After, so that a registry cannot park
// a pull for hours.
const maxRetryAfter = 60 * time.Second

func retryAfter(resp *http.Response) (time.Duration, bool) {
	v := resp.Header.Get("Retry-After")
	if v == "" {
		return 0, false
	}
	var d time.Duration
	if s, err := strconv.Atoi(v); err == nil {
		d = time.Duration(s) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = time.Until(t)
	} else {
		return 0, false
	}
	return min(max(d, 0), maxRetryAfter), true
}

func (h *host) backoff(attempt int) time.Duration {
	return min(h.c.opts.Backoff<<attempt, 30*time.Second)
}

func (h *host) sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// drain reads a little of a body we do not want, so the connection is reused.
func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
}

// statusError turns an unexpected response into an error (closing it),
// classified: 404 is errdefs.ErrNotFound, 400 errdefs.ErrInvalid.
func statusError(resp *http.Response, what string) error {
	defer resp.Body.Close()
	e := &Error{Status: resp.StatusCode}
	var body struct {
		Errors []struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"errors"`
	}
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if json.Unmarshal(data, &body) == nil && len(body.Errors) > 0 {
		e.Code, e.Message = body.Errors[0].Code, body.Errors[0].Message
	}
	switch resp.StatusCode {
	case http.StatusNotFound:
		return errdefs.NotFound("%s: %w", what, e)
	case http.StatusBadRequest:
		return errdefs.Invalid("%s: %w", what, e)
	case http.StatusUnauthorized, http.StatusForbidden:
		if e.Message == "" {
			e.Code, e.Message = "unauthorized", "authentication required"
		}
	}
	return fmt.Errorf("%s: %w", what, e)
}
