package registry

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/strata-containers/strata/internal/errdefs"
)

// authorizer answers a host's WWW-Authenticate challenges and remembers
// the result: the Basic credential for the host, or a Bearer token per set
// of scopes, so every later request of a pull (every layer) reuses it.
type authorizer struct {
	h      *host
	mu     sync.Mutex
	basic  string            // "Basic …" once the host asked for it
	tokens map[string]string // strings.Join(scopes, " ") -> "Bearer …"
	// tokenRequests counts tokens fetched, for tests of their reuse.
	tokenRequests int
}

func newAuthorizer(h *host) *authorizer {
	return &authorizer{h: h, tokens: map[string]string{}}
}

// header returns the Authorization value to send for scopes, "" if none.
func (a *authorizer) header(scopes []string) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	if t, ok := a.tokens[strings.Join(scopes, " ")]; ok {
		return t
	}
	return a.basic
}

// TokenRequests returns how many Bearer tokens the client fetched from the
// host's realm: a pull of any number of layers needs one.
func (c *Client) TokenRequests(host string) int {
	h := c.host(host)
	h.auth.mu.Lock()
	defer h.auth.mu.Unlock()
	return h.auth.tokenRequests
}

// answer handles a 401's challenges: Bearer fetches a token for scopes,
// Basic sends the host's credential. Without a credential the 401 stands.
func (a *authorizer) answer(ctx context.Context, challenges []string, scopes []string) error {
	for _, ch := range challenges {
		scheme, params := parseChallenge(ch)
		switch scheme {
		case "bearer":
			return a.bearer(ctx, params, scopes)
		case "basic":
			cred, err := a.credential(ctx)
			if err != nil {
				return err
			}
			if cred == (Credential{}) {
				return nil // the retry gets the 401 back, which the caller reports
			}
			a.mu.Lock()
			a.basic = basicHeader(cred)
			a.mu.Unlock()
			return nil
		}
	}
	return nil
}

func basicHeader(c Credential) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(c.Username+":"+c.Secret))
}

func (a *authorizer) credential(ctx context.Context) (Credential, error) {
	if a.h.c.opts.Credentials == nil {
		return Credential{}, nil
	}
	cred, err := a.h.c.opts.Credentials(ctx, a.h.name)
	if err != nil {
		return Credential{}, fmt.Errorf("credentials for %s: %w", a.h.name, err)
	}
	return cred, nil
}

// bearer fetches a token from the challenge's realm for scopes, with the
// host's credential as Basic auth when there is one (anonymous otherwise).
func (a *authorizer) bearer(ctx context.Context, params map[string]string, scopes []string) error {
	tok, err := a.fetchToken(ctx, params, scopes)
	if err != nil {
		return err
	}
	a.mu.Lock()
	a.tokens[strings.Join(scopes, " ")] = "Bearer " + tok
	a.tokenRequests++
	a.mu.Unlock()
	return nil
}

func (a *authorizer) fetchToken(ctx context.Context, params map[string]string, scopes []string) (string, error) {
	realm := params["realm"]
	u, err := a.tokenURL(params, scopes)
	if err != nil {
		return "", err
	}
	cred, err := a.credential(ctx)
	if err != nil {
		return "", err
	}
	hdr := http.Header{}
	if cred != (Credential{}) {
		hdr.Set("Authorization", basicHeader(cred))
	}
	resp, err := a.h.do(ctx, &request{method: http.MethodGet, path: u.String(), header: hdr, noAuth: true})
	if err != nil {
		return "", fmt.Errorf("fetching token for %s: %w", a.h.name, err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", statusError(resp, "fetching token for "+a.h.name)
	}
	defer resp.Body.Close()
	var body struct {
		Token       string `json:"token"`
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&body); err != nil {
		return "", fmt.Errorf("decoding token from %s: %w", realm, err)
	}
	if body.Token == "" {
		body.Token = body.AccessToken
	}
	if body.Token == "" {
		return "", fmt.Errorf("token server %s returned no token", realm)
	}
	return body.Token, nil
}

// tokenURL is the realm with the service and the scopes asked for.
func (a *authorizer) tokenURL(params map[string]string, scopes []string) (*url.URL, error) {
	u, err := url.Parse(params["realm"])
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, errdefs.Invalid("registry %s: bad token realm %q", a.h.name, params["realm"])
	}
	q := u.Query()
	if s := params["service"]; s != "" {
		q.Set("service", s)
	}
	for _, s := range scopes {
		q.Add("scope", s)
	}
	if s := params["scope"]; s != "" && !slices.Contains(scopes, s) {
		q.Add("scope", s)
	}
	u.RawQuery = q.Encode()
	return u, nil
}

// parseChallenge splits `Bearer realm="…",service="…"` into its lower-case
// scheme and parameters.
func parseChallenge(s string) (string, map[string]string) {
	scheme, rest, _ := strings.Cut(strings.TrimSpace(s), " ")
	params := map[string]string{}
	for rest != "" {
		rest = strings.TrimLeft(rest, " ,")
		key, after, ok := strings.Cut(rest, "=")
		if !ok {
			break
		}
		var val string
		if strings.HasPrefix(after, `"`) {
			end := strings.Index(after[1:], `"`)
			if end < 0 {
				val, rest = after[1:], ""
			} else {
				val, rest = after[1:end+1], after[end+2:]
			}
		} else {
			val, rest, _ = strings.Cut(after, ",")
		}
		params[strings.ToLower(strings.TrimSpace(key))] = val
	}
	return strings.ToLower(scheme), params
}

// Login checks cred against the registry at host: a request to /v2/ that
// must succeed with it (Basic directly, or a token fetched with it).
func (c *Client) Login(ctx context.Context, server string, cred Credential) error {
	h := New(c.withCredential(cred)).host(server)
	resp, err := h.do(ctx, &request{method: http.MethodGet, path: "/v2/"})
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return statusError(resp, "login to "+server)
	}
	drain(resp)
	return nil
}

func (c *Client) withCredential(cred Credential) Options {
	o := c.opts
	o.Credentials = func(context.Context, string) (Credential, error) { return cred, nil }
	return o
}
