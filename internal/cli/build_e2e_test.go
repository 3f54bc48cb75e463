package cli

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// buildContext writes a build context: files by slash path; a value
// starting with "->" makes a symlink.
func buildContext(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		var err error
		if target, ok := strings.CutPrefix(data, "->"); ok {
			err = os.Symlink(target, p)
		} else {
			err = os.WriteFile(p, []byte(data), 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// imageConfig is what `image inspect` says of an image.
type imageConfig struct {
	ID     string
	Config struct {
		Env, Cmd, Entrypoint, Shell, OnBuild []string
		WorkingDir, User, StopSignal         string
		ExposedPorts, Volumes                map[string]any
		Labels                               map[string]string
		Healthcheck                          *struct{ Test []string }
	}
	RootFS struct{ Layers []string }
}

func (s *store) inspectImage(t *testing.T, ref string) imageConfig {
	t.Helper()
	var out []imageConfig
	if err := json.Unmarshal([]byte(s.ok(nil, "image", "inspect", ref)), &out); err != nil || len(out) != 1 {
		t.Fatalf("image inspect %s: %v", ref, err)
	}
	return out[0]
}

var builtLine = regexp.MustCompile(`(?m)^Successfully built ([0-9a-f]{12})$`)

// builtID returns the short ID a build's output ends with.
func builtID(t *testing.T, out string) string {
	t.Helper()
	m := builtLine.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no 'Successfully built' in:\n%s", out)
	}
	return m[1]
}

func TestE2EBuildInstructions(t *testing.T) {
	s := newContainerStore(t)
	var layerTar bytes.Buffer
	tw := tar.NewWriter(&layerTar)
	_ = tw.WriteHeader(&tar.Header{Name: "from-tar.txt", Mode: 0o644, Size: 3, Typeflag: tar.TypeReg})
	_, _ = tw.Write([]byte("tar"))
	tw.Close()
	ctx := buildContext(t, map[string]string{
		"Dockerfile": `# escape=\
FROM busybox AS base
LABEL org.example.a="one" b=two
MAINTAINER someone@example.com
ENV GREETING="hello world" \
    OTHER=x
ARG WHO=builder
ARG UNSET
RUN echo "$GREETING from $WHO${UNSET:-!}" > /greeting && \
    mkdir -p /data
RUN ["/bin/sh", "-c", "echo exec-form > /exec"]
RUN <<EOF
echo heredoc > /heredoc
EOF
COPY --chown=1234:daemon --chmod=0750 a.txt b.txt /dst/
COPY *.md /docs/
COPY dir /copied
COPY <<EOT /inline.txt
inline ${OTHER}
EOT
ADD layer.tar /unpacked/
WORKDIR /work
WORKDIR sub
USER nobody
EXPOSE 80 53/udp
VOLUME ["/vol"]
STOPSIGNAL SIGUSR1
HEALTHCHECK --interval=5s CMD true
SHELL ["/bin/sh", "-ec"]
ONBUILD RUN echo triggered > /tmp/onbuild
ENTRYPOINT ["/bin/echo"]
CMD ["default"]
`,
		"a.txt": "A", "b.txt": "B", "x.md": "md", "y.md": "md2", "dir/sub/f": "f",
		"layer.tar": layerTar.String(),
	})
	out := s.ok(nil, "build", "-t", "every:1", "--build-arg", "WHO=tests", "--label", "cli=yes", ctx)
	for _, want := range []string{"Step 1/26 : FROM busybox AS base", "Step 9/26 : RUN", " ---> Running in ", "Successfully tagged every:1"} {
		if !strings.Contains(out, want) {
			t.Errorf("build output lacks %q:\n%s", want, out)
		}
	}
	cfg := s.inspectImage(t, "every:1")
	c := cfg.Config
	if c.WorkingDir != "/work/sub" || c.User != "nobody" || c.StopSignal != "SIGUSR1" ||
		strings.Join(c.Entrypoint, " ") != "/bin/echo" || strings.Join(c.Cmd, " ") != "default" ||
		strings.Join(c.Shell, " ") != "/bin/sh -ec" || len(c.OnBuild) != 1 {
		t.Errorf("config: %+v", c)
	}
	if c.Labels["org.example.a"] != "one" || c.Labels["b"] != "two" || c.Labels["cli"] != "yes" {
		t.Errorf("labels: %v", c.Labels)
	}
	if _, ok := c.ExposedPorts["53/udp"]; !ok || c.ExposedPorts["80/tcp"] == nil && len(c.ExposedPorts) != 2 {
		t.Errorf("exposed ports: %v", c.ExposedPorts)
	}
	if _, ok := c.Volumes["/vol"]; !ok || c.Healthcheck == nil {
		t.Errorf("volumes %v, healthcheck %v", c.Volumes, c.Healthcheck)
	}
	if !strings.Contains(strings.Join(c.Env, ","), "GREETING=hello world") {
		t.Errorf("env: %v", c.Env)
	}
	// busybox's layer, 3 RUN, 4 COPY and 1 ADD: metadata steps add none.
	if n := len(cfg.RootFS.Layers); n != 9 {
		t.Errorf("%d layers, want 9", n)
	}
	got := s.ok(nil, "run", "--rm", "--user", "0", "--entrypoint", "sh", "every:1", "-c",
		`cat /greeting /exec /heredoc /inline.txt /docs/x.md /docs/y.md /copied/sub/f /unpacked/from-tar.txt; stat -c '%u:%g %a' /dst/a.txt /dst/b.txt; pwd`)
	want := "hello world from tests!\nexec-form\nheredoc\ninline x\nmdmd2ftar1234:1 750\n1234:1 750\n/work/sub\n"
	if got != want {
		t.Errorf("files in the image:\n%q\nwant\n%q", got, want)
	}
	// ONBUILD fires in a child build.
	child := buildContext(t, map[string]string{"Dockerfile": "FROM every:1\nUSER 0\n"})
	s.ok(nil, "build", "-t", "child", child)
	if got := s.ok(nil, "run", "--rm", "--entrypoint", "cat", "child", "/tmp/onbuild"); got != "triggered\n" {
		t.Errorf("ONBUILD trigger: %q", got)
	}
}

func TestE2EBuildCache(t *testing.T) {
	s := newContainerStore(t)
	ctx := buildContext(t, map[string]string{
		"Dockerfile": "FROM busybox\nCOPY one /one\nRUN cat /one > /copy\nCOPY two /two\nRUN cat /two >> /copy\nCMD [\"cat\", \"/copy\"]\n",
		"one":        "1\n", "two": "2\n",
	})
	first := builtID(t, s.ok(nil, "build", "-t", "cached", ctx))
	again := s.ok(nil, "build", "-t", "cached", ctx)
	if n := strings.Count(again, "Using cache"); n != 5 || strings.Contains(again, "Running in") {
		t.Errorf("rebuild used the cache %d times (want 5):\n%s", n, again)
	}
	if builtID(t, again) != first {
		t.Errorf("a fully cached rebuild changed the image ID")
	}
	// A new mtime alone changes nothing; new content invalidates its
	// step and every later one, not the earlier ones.
	later := time.Now().Add(time.Hour)
	if err := os.Chtimes(filepath.Join(ctx, "one"), later, later); err != nil {
		t.Fatal(err)
	}
	if out := s.ok(nil, "build", ctx); strings.Count(out, "Using cache") != 5 {
		t.Errorf("touching a file invalidated the cache:\n%s", out)
	}
	if err := os.WriteFile(filepath.Join(ctx, "two"), []byte("TWO\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := s.ok(nil, "build", "-t", "cached", ctx)
	if n := strings.Count(out, "Using cache"); n != 2 {
		t.Errorf("after changing one file, %d steps used the cache (want 2):\n%s", n, out)
	}
	if got := s.ok(nil, "run", "--rm", "cached"); got != "1\nTWO\n" {
		t.Errorf("rebuilt image says %q", got)
	}
	if out := s.ok(nil, "build", "--no-cache", ctx); strings.Contains(out, "Using cache") {
		t.Errorf("--no-cache used the cache:\n%s", out)
	}
	// builder prune empties the cache; the next build runs every step.
	s.ok(nil, "builder", "prune", "-f")
	if out := s.ok(nil, "build", ctx); strings.Contains(out, "Using cache") {
		t.Errorf("the cache survived builder prune:\n%s", out)
	}
}

func TestE2EBuildCacheArgs(t *testing.T) {
	s := newContainerStore(t)
	ctx := buildContext(t, map[string]string{"Dockerfile": "FROM busybox\nARG V=1\nRUN echo $V > /v\n"})
	s.ok(nil, "build", "--build-arg", "V=1", ctx)
	if out := s.ok(nil, "build", "--build-arg", "V=2", ctx); !strings.Contains(out, "Running in") {
		t.Errorf("a changed build arg did not invalidate the RUN:\n%s", out)
	}
	if out := s.ok(nil, "build", "--build-arg", "V=1", ctx); strings.Contains(out, "Running in") {
		t.Errorf("the first build arg's RUN was not cached:\n%s", out)
	}
	out := s.ok(nil, "build", "--build-arg", "UNUSED=1", "--build-arg", "V=1", ctx)
	if !strings.Contains(out, "[Warning] One or more build-args [UNUSED] were not consumed") {
		t.Errorf("no warning for an unused build arg:\n%s", out)
	}
}

// ADD of a URL, checked against --checksum, from a server of the test's.
func TestE2EBuildAddURL(t *testing.T) {
	s := newContainerStore(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("remote content\n"))
	}))
	t.Cleanup(srv.Close)
	sum := sha256.Sum256([]byte("remote content\n"))
	good := fmt.Sprintf("FROM busybox\nADD --checksum=sha256:%x %s/dir/file.txt /got/\n", sum, srv.URL)
	s.ok(nil, "build", "-t", "url", buildContext(t, map[string]string{"Dockerfile": good}))
	if got := s.ok(nil, "run", "--rm", "url", "cat", "/got/file.txt"); got != "remote content\n" {
		t.Errorf("ADD URL gave %q", got)
	}
	bad := fmt.Sprintf("FROM busybox\nADD --checksum=sha256:%064x %s/file.txt /got\n", 0, srv.URL)
	if r := s.run(nil, "build", buildContext(t, map[string]string{"Dockerfile": bad})); r.code != 1 || !strings.Contains(r.stderr, "checksum mismatch") {
		t.Errorf("a wrong checksum: exit %d, %s", r.code, r.stderr)
	}
	assertNoBuildLeftovers(t, s) // the downloads are gone
}
