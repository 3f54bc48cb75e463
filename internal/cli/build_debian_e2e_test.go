package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// debianBase returns a Debian bookworm minbase rootfs tarball, made with
// debootstrap once and cached between runs (in $STRATA_TEST_CACHE, by
// default /var/cache/strata-test).
func debianBase(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("STRATA_TEST_CACHE")
	if dir == "" {
		dir = "/var/cache/strata-test"
	}
	tarball := filepath.Join(dir, "bookworm-minbase.tar")
	if _, err := os.Stat(tarball); err == nil {
		return tarball
	}
	if _, err := exec.LookPath("debootstrap"); err != nil {
		t.Skip("needs debootstrap (apt-get install debootstrap) or a cached " + tarball)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(t.TempDir(), "rootfs")
	out, err := exec.Command("debootstrap", "--variant=minbase", "bookworm", root, "http://deb.debian.org/debian").CombinedOutput()
	if err != nil {
		t.Skipf("debootstrap failed (no Debian mirror reachable?): %v\n%s", err, tail(string(out), 1000))
	}
	tmp := tarball + ".tmp"
	if out, err := exec.Command("tar", "--numeric-owner", "-C", root, "-cf", tmp, ".").CombinedOutput(); err != nil {
		t.Fatalf("tar: %v\n%s", err, out)
	}
	if err := os.Rename(tmp, tarball); err != nil {
		t.Fatal(err)
	}
	return tarball
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// A build as people write them: apt-get on a Debian base, on the host's
// network. Slow (a download from a Debian mirror); skipped with -short.
func TestE2EBuildDebianAptGet(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: downloads from a Debian mirror")
	}
	base := debianBase(t)
	s := newContainerStore(t)
	s.ok(nil, "import", base, "debian:bookworm")
	ctx := buildContext(t, map[string]string{"Dockerfile": `FROM debian:bookworm
RUN apt-get update && apt-get install -y --no-install-recommends hello && rm -rf /var/lib/apt/lists/*
CMD ["hello"]
`})
	r := s.run(nil, "build", "--network", "host", "-t", "hello", ctx)
	if r.code != 0 {
		if strings.Contains(r.stdout, "Temporary failure resolving") || strings.Contains(r.stdout, "Could not resolve") {
			t.Skipf("no Debian mirror reachable from the build:\n%s", tail(r.stdout, 1000))
		}
		t.Fatalf("build: exit %d\n%s\n%s", r.code, tail(r.stdout, 3000), r.stderr)
	}
	if got := s.ok(nil, "run", "--rm", "hello"); got != "Hello, world!\n" {
		t.Errorf("hello says %q", got)
	}
}
