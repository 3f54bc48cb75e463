// Package registry starts Debian's docker-registry (the distribution
// project's reference registry) for tests, on 127.0.0.1 on a free port with
// its storage in a temporary directory, in three setups: plain HTTP, TLS
// with a CA made for the test, and htpasswd Basic auth behind TLS. A small
// fault-injecting proxy (proxy.go) can sit in front of it.
//
// Everything a Registry starts or writes is stopped and removed by
// t.Cleanup, even when the test fails.
package registry

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// Binary is where Debian installs the registry.
const Binary = "/usr/bin/docker-registry"

// Mode is a registry setup.
type Mode int

// The setups.
const (
	HTTP Mode = iota
	TLS
	TLSAuth // htpasswd Basic auth over TLS
	// TLSClientCert requires a client certificate signed by the test CA;
	// one is written as <CertsDir>/<Host>/client.cert and client.key.
	TLSClientCert
)

// Test credentials of a TLSAuth registry.
const (
	User     = "strata"
	Password = "s3cret-pass"
)

// Registry is a running docker-registry.
type Registry struct {
	Host     string // "127.0.0.1:port"
	Dir      string // storage root
	CertsDir string // for TLS: <CertsDir>/<Host>/ca.crt, Docker's layout
	CAPool   *x509.CertPool
}

// Start starts a registry in mode, skipping the test when the binary (or,
// for TLSAuth, htpasswd) is missing.
func Start(t testing.TB, mode Mode) *Registry {
	t.Helper()
	if _, err := os.Stat(Binary); err != nil {
		t.Skipf("needs %s: apt-get install docker-registry (hack/deps.sh)", Binary)
	}
	base := t.TempDir()
	r := &Registry{Dir: filepath.Join(base, "storage"), CertsDir: filepath.Join(base, "certs.d")}
	port := freePort(t)
	r.Host = fmt.Sprintf("127.0.0.1:%d", port)
	cfg := fmt.Sprintf("version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: %s\n  delete:\n    enabled: true\nhttp:\n  addr: %s\n", r.Dir, r.Host)
	if mode != HTTP {
		cert, key := r.makeTLS(t, base, mode == TLSClientCert)
		cfg += fmt.Sprintf("  tls:\n    certificate: %s\n    key: %s\n", cert, key)
		if mode == TLSClientCert {
			cfg += fmt.Sprintf("    clientcas:\n      - %s\n", filepath.Join(r.CertsDir, r.Host, "ca.crt"))
		}
	}
	if mode == TLSAuth {
		cfg += fmt.Sprintf("auth:\n  htpasswd:\n    realm: strata-test\n    path: %s\n", makeHtpasswd(t, base))
	}
	cfgPath := filepath.Join(base, "config.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(base, "registry.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	cmd := exec.Command(Binary, "serve", cfgPath)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting registry: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			if data, err := os.ReadFile(logPath); err == nil {
				t.Logf("registry log:\n%s", tail(data, 4096))
			}
		}
	})
	r.waitReady(t)
	return r
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

func freePort(t testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// waitReady polls the port until the registry listens. Polling, not a
// timed assertion: it only bounds how long a broken setup takes to fail.
func (r *Registry) waitReady(t testing.TB) {
	t.Helper()
	for range 200 {
		if c, err := net.Dial("tcp", r.Host); err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("registry on %s did not come up", r.Host)
}

// Client is an HTTP client that trusts the registry's CA.
func (r *Registry) Client() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.TLSClientConfig = &tls.Config{RootCAs: r.CAPool}
	return &http.Client{Transport: t}
}

// makeTLS writes a CA, a server certificate for 127.0.0.1 signed by it, and
// the CA as <CertsDir>/<Host>/ca.crt; with client, a client certificate too.
func (r *Registry) makeTLS(t testing.TB, dir string, client bool) (certPath, keyPath string) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "strata test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	hostDir := filepath.Join(r.CertsDir, r.Host)
	if err := os.MkdirAll(hostDir, 0o755); err != nil {
		t.Fatal(err)
	}
	writePEM(t, filepath.Join(hostDir, "ca.crt"), "CERTIFICATE", caDER)
	certPath, keyPath = filepath.Join(dir, "server.crt"), filepath.Join(dir, "server.key")
	issue(t, ca, caKey, &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}, certPath, keyPath)
	if client {
		issue(t, ca, caKey, &x509.Certificate{
			SerialNumber: big.NewInt(3), Subject: pkix.Name{CommonName: "strata test client"},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		}, filepath.Join(hostDir, "client.cert"), filepath.Join(hostDir, "client.key"))
	}
	r.CAPool = x509.NewCertPool()
	r.CAPool.AddCert(ca)
	return certPath, keyPath
}

// issue signs tmpl with the CA and writes the certificate and its new key.
func issue(t testing.TB, ca *x509.Certificate, caKey *ecdsa.PrivateKey, tmpl *x509.Certificate, certPath, keyPath string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	writePEM(t, certPath, "CERTIFICATE", der)
	writePEM(t, keyPath, "EC PRIVATE KEY", keyDER)
}

func writePEM(t testing.TB, path, typ string, der []byte) {
	t.Helper()
	data := pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// makeHtpasswd writes a bcrypt htpasswd file with htpasswd(1).
func makeHtpasswd(t testing.TB, dir string) string {
	t.Helper()
	if _, err := exec.LookPath("htpasswd"); err != nil {
		t.Skip("needs htpasswd: apt-get install apache2-utils (hack/deps.sh)")
	}
	out, err := exec.Command("htpasswd", "-Bbn", User, Password).Output()
	if err != nil {
		t.Fatalf("htpasswd: %v", err)
	}
	path := filepath.Join(dir, "htpasswd")
	if err := os.WriteFile(path, out, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
