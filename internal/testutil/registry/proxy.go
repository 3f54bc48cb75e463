package registry

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Fault is one misbehaviour the proxy applies to the next blob download.
type Fault int

// The faults.
const (
	// Cut sends the headers and half the body, then drops the connection.
	Cut Fault = iota + 1
	// Corrupt flips one byte of the body.
	Corrupt
	// Reset drops the connection before answering.
	Reset
	// TooMany answers 429 with "Retry-After: 1".
	TooMany
	// Unavailable answers 503.
	Unavailable
)

// Proxy is an HTTP proxy in front of a plain-HTTP Registry that counts what
// it serves and injects faults into downloads: a GET whose path contains a
// queued fault's key gets that fault, one fault per request. With Bearer set it also plays a token server:
// requests need "Authorization: Bearer <token>", handed out by /token.
type Proxy struct {
	Host string // "127.0.0.1:port" of the proxy

	upstream string
	mu       sync.Mutex
	faults   []queued
	served   int64    // blob body bytes sent to clients
	ranges   []string // Range headers of blob requests
	bearer   bool
	tokens   int // tokens issued
}

// NewProxy starts a proxy in front of r (which must be HTTP); t.Cleanup stops it.
func NewProxy(t testing.TB, r *Registry, bearer bool) *Proxy {
	p := &Proxy{upstream: "http://" + r.Host, bearer: bearer}
	srv := httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(srv.Close)
	p.Host = strings.TrimPrefix(srv.URL, "http://")
	return p
}

type queued struct {
	key   string
	fault Fault
}

// Inject queues faults for the next blob downloads, in order.
func (p *Proxy) Inject(f ...Fault) { p.InjectOn("/blobs/sha256:", f...) }

// InjectOn queues faults for the next GETs whose path contains key (a
// digest, "/manifests/", ...), in order.
func (p *Proxy) InjectOn(key string, f ...Fault) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, x := range f {
		p.faults = append(p.faults, queued{key, x})
	}
}

// next takes the first fault queued for path.
func (p *Proxy) next(path string) Fault {
	for i, q := range p.faults {
		if strings.Contains(path, q.key) {
			p.faults = append(p.faults[:i], p.faults[i+1:]...)
			return q.fault
		}
	}
	return 0
}

// Served returns the blob bytes served so far.
func (p *Proxy) Served() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.served
}

// Ranges returns the Range headers of the blob requests so far.
func (p *Proxy) Ranges() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.ranges...)
}

// Tokens returns how many bearer tokens the proxy issued.
func (p *Proxy) Tokens() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.tokens
}

const testToken = "strata-test-token"

func (p *Proxy) serve(w http.ResponseWriter, req *http.Request) {
	if p.bearer && !p.authorized(w, req) {
		return
	}
	get := req.Method == http.MethodGet
	blob := get && strings.Contains(req.URL.Path, "/blobs/sha256:")
	var fault Fault
	if get {
		p.mu.Lock()
		fault = p.next(req.URL.Path)
		if rg := req.Header.Get("Range"); rg != "" && blob {
			p.ranges = append(p.ranges, rg)
		}
		p.mu.Unlock()
	}
	switch fault {
	case Reset:
		panic(http.ErrAbortHandler)
	case TooMany:
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusTooManyRequests)
		return
	case Unavailable:
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	p.forward(w, req, blob, fault)
}

// authorized plays the token server and checks the token.
func (p *Proxy) authorized(w http.ResponseWriter, req *http.Request) bool {
	if req.URL.Path == "/token" {
		p.mu.Lock()
		p.tokens++
		p.mu.Unlock()
		_ = json.NewEncoder(w).Encode(map[string]string{"token": testToken})
		return false
	}
	if req.Header.Get("Authorization") == "Bearer "+testToken {
		return true
	}
	w.Header().Set("WWW-Authenticate", `Bearer realm="http://`+req.Host+`/token",service="strata-test"`)
	w.WriteHeader(http.StatusUnauthorized)
	return false
}

func (p *Proxy) forward(w http.ResponseWriter, req *http.Request, blob bool, fault Fault) {
	out, err := http.NewRequestWithContext(req.Context(), req.Method, p.upstream+req.URL.RequestURI(), req.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	out.Header = req.Header.Clone()
	out.Header.Del("Authorization")
	out.ContentLength = req.ContentLength
	resp, err := http.DefaultTransport.RoundTrip(out)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	for k, v := range resp.Header {
		if k == "Location" {
			v = []string{strings.Replace(v[0], strings.TrimPrefix(p.upstream, "http://"), req.Host, 1)}
		}
		w.Header()[k] = v
	}
	w.WriteHeader(resp.StatusCode)
	if !blob && fault == 0 {
		_, _ = io.Copy(w, resp.Body)
		return
	}
	p.copyBody(w, resp, blob, fault)
}

// copyBody sends the body, counting blob bytes, and applies Cut or Corrupt.
func (p *Proxy) copyBody(w http.ResponseWriter, resp *http.Response, blob bool, fault Fault) {
	limit := int64(-1)
	if fault == Cut {
		n, _ := strconv.ParseInt(resp.Header.Get("Content-Length"), 10, 64)
		limit = n / 2
	}
	buf := make([]byte, 64<<10)
	var sent int64
	for {
		n, err := resp.Body.Read(buf)
		if limit >= 0 && sent+int64(n) > limit {
			n = int(limit - sent)
		}
		if n > 0 {
			if fault == Corrupt && sent == 0 {
				buf[0] ^= 0xff
			}
			_, _ = w.Write(buf[:n])
			sent += int64(n)
			if blob {
				p.mu.Lock()
				p.served += int64(n)
				p.mu.Unlock()
			}
		}
		if limit >= 0 && sent >= limit {
			w.(http.Flusher).Flush()
			panic(http.ErrAbortHandler)
		}
		if err != nil {
			return
		}
	}
}
