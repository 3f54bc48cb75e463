package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strata-containers/strata/internal/testutil"
	treg "github.com/strata-containers/strata/internal/testutil/registry"
)

// A statically linked Go program built on the host, in a FROM scratch image.
func TestE2EBuildScratchGoProgram(t *testing.T) {
	s := newContainerStore(t)
	ctx := buildContext(t, map[string]string{
		"main.go":    "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"static hello\") }\n",
		"go.mod":     "module hello\n\ngo 1.21\n",
		"Dockerfile": "FROM scratch\nCOPY hello /hello\nENTRYPOINT [\"/hello\"]\n",
	})
	gobuild := exec.Command("go", "build", "-o", filepath.Join(ctx, "hello"), ".")
	gobuild.Dir = ctx
	gobuild.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=")
	if out, err := gobuild.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	s.ok(nil, "build", "-t", "static", ctx)
	if got := s.ok(nil, "run", "--rm", "static"); got != "static hello\n" {
		t.Errorf("the static program said %q", got)
	}
	if layers := s.inspectImage(t, "static").RootFS.Layers; len(layers) != 1 {
		t.Errorf("FROM scratch + COPY: %d layers, want 1", len(layers))
	}
}

// With SOURCE_DATE_EPOCH, two builds without cache give the same image ID.
func TestE2EBuildReproducible(t *testing.T) {
	s := newContainerStore(t)
	ctx := buildContext(t, map[string]string{
		"Dockerfile": "FROM busybox\nCOPY f /f\nRUN echo made > /made && mkdir /d\nENV A=b\n",
		"f":          "content",
	})
	build := func() string {
		cmd := s.command(nil, "build", "-q", "--no-cache", ctx)
		cmd.Env = append(cmd.Env, "SOURCE_DATE_EPOCH=1700000000")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("build: %v", err)
		}
		return strings.TrimSpace(string(out))
	}
	first, second := build(), build()
	if first != second {
		t.Errorf("SOURCE_DATE_EPOCH builds differ: %s, %s", first, second)
	}
	if cfg := s.inspectImage(t, first); !strings.HasPrefix(s.ok(nil, "image", "inspect", "--format", "{{.Created}}", first), "2023-11-14") {
		t.Errorf("created is not SOURCE_DATE_EPOCH: %+v", cfg)
	}
}

func TestE2EBuildRunMounts(t *testing.T) {
	s := newContainerStore(t)
	ctx := buildContext(t, map[string]string{
		"data/f": "from-context",
		"Dockerfile": `FROM busybox AS src
RUN echo from-stage > /stagefile
FROM busybox
RUN --mount=type=bind,source=data,target=/mnt/data cat /mnt/data/f > /fromctx
RUN --mount=type=bind,from=src,source=/stagefile,target=/sf cat /sf > /fromstage
RUN --mount=type=cache,target=/cache echo x >> /cache/count && wc -l < /cache/count > /cachecount
RUN --mount=type=tmpfs,target=/scratchpad touch /scratchpad/x && ls /scratchpad > /tmpfsls
RUN --network=none true
`,
	})
	s.ok(nil, "build", "-t", "mounts", ctx)
	check := `cat /fromctx /fromstage /cachecount /tmpfsls; ls -d /mnt/data /sf /cache /scratchpad 2>&1 | grep -c 'No such file'`
	want := "from-contextfrom-stage\n1\nx\n4\n"
	if got := s.ok(nil, "run", "--rm", "mounts", "sh", "-c", check); got != want {
		t.Errorf("after RUN --mount:\n%q\nwant\n%q", got, want)
	}
	// The cache mount outlives the build; builder prune drops it.
	s.ok(nil, "build", "--no-cache", "-t", "mounts", ctx)
	if got := s.ok(nil, "run", "--rm", "mounts", "cat", "/cachecount"); got != "2\n" {
		t.Errorf("the cache mount was not kept: count %q", got)
	}
	s.ok(nil, "builder", "prune", "-f")
	s.ok(nil, "build", "-t", "mounts", ctx)
	if got := s.ok(nil, "run", "--rm", "mounts", "cat", "/cachecount"); got != "1\n" {
		t.Errorf("builder prune kept the cache mount: count %q", got)
	}
}

func TestE2EBuildCopyExcludeAndPlatform(t *testing.T) {
	s := newContainerStore(t)
	ctx := buildContext(t, map[string]string{
		"dir/keep": "k", "dir/drop.tmp": "d", "dir/sub/skip": "s", "dir/sub/also": "a",
		"Dockerfile": "FROM --platform=$BUILDPLATFORM busybox\nCOPY --exclude=*.tmp --exclude=sub/skip dir /d\n",
	})
	s.ok(nil, "build", "-t", "excl", ctx)
	if got := s.ok(nil, "run", "--rm", "excl", "sh", "-c", "find /d -type f | sort"); got != "/d/keep\n/d/sub/also\n" {
		t.Errorf("COPY --exclude left:\n%s", got)
	}
	bad := buildContext(t, map[string]string{"Dockerfile": "FROM --platform=linux/s390x busybox\n"})
	if r := s.run(nil, "build", bad); r.code != 1 || !strings.Contains(r.stderr, "only the host's platform") {
		t.Errorf("foreign platform: exit %d, %s", r.code, r.stderr)
	}
}

// With the vfs driver, a step's layer is the difference of two full trees:
// deletions are recorded and a RUN that changes nothing adds no layer.
func TestE2EBuildVFS(t *testing.T) {
	newContainerStore(t) // the same requirements
	s := newStore(t)
	vfs := func(args ...string) []string { return append([]string{"--storage-driver", "vfs"}, args...) }
	s.ok(nil, vfs("import", "--change", `CMD ["sh"]`, writeFile(t, "busybox.tar", testutil.BusyboxRootfs(t)), "busybox:latest")...)
	ctx := buildContext(t, map[string]string{
		"f":          "copied",
		"Dockerfile": "FROM busybox\nCOPY f /f\nRUN rm /etc/group && echo ran > /ran\nRUN true\n",
	})
	s.ok(nil, vfs("build", "-t", "vfs", ctx)...)
	got := s.ok(nil, vfs("run", "--rm", "vfs", "sh", "-c", "cat /f /ran; test -e /etc/group || echo gone")...)
	if got != "copiedran\ngone\n" {
		t.Errorf("vfs build gave %q", got)
	}
	if n := len(s.inspectImage(t, "vfs").RootFS.Layers); n != 3 {
		t.Errorf("%d layers, want 3 (busybox, COPY, the first RUN)", n)
	}
}

// A base image absent from the store is pulled, as docker build does, and
// --pull pulls it again.
func TestE2EBuildPullsBase(t *testing.T) {
	s := newContainerStore(t)
	r := treg.Start(t, treg.HTTP)
	name := r.Host + "/base/busybox:1"
	s.ok(nil, "tag", "busybox", name)
	s.ok(nil, "push", name)
	s.ok(nil, "rmi", name)
	ctx := buildContext(t, map[string]string{"Dockerfile": "FROM " + name + "\nRUN echo pulled > /p\n"})
	s.ok(nil, "build", "-t", "frompull", ctx)
	if got := s.ok(nil, "run", "--rm", "frompull", "cat", "/p"); got != "pulled\n" {
		t.Errorf("built on a pulled base: %q", got)
	}
	if out := s.ok(nil, "build", "--pull", ctx); !strings.Contains(out, "Using cache") {
		t.Errorf("--pull of an unchanged base invalidated the cache:\n%s", out)
	}
}
