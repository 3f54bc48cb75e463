package cli

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestE2EBuildCacheDFAndSystemPrune: `system df` counts the build cache
// (its entries; as size, the layers only it keeps once the image is gone)
// and `system prune` keeps it (docker's drops only dangling cache
// without -a) while `system prune -a` drops it, its bytes in the total
// reclaimed.
func TestE2EBuildCacheDFAndSystemPrune(t *testing.T) {
	s := newContainerStore(t)
	dir := buildContext(t, map[string]string{
		"Dockerfile": "FROM busybox\nRUN head -c 300000 /dev/urandom > /blob\nENV A=1\nRUN echo more > /more\n",
	})
	s.ok(nil, "build", "-t", "cached", dir)
	dfLine := func() string {
		for _, l := range lines(s.ok(nil, "system", "df", "--format", "{{.Type}}: {{.TotalCount}} {{.Active}} {{.Size}} {{.Reclaimable}}")) {
			if strings.HasPrefix(l, "Build Cache:") {
				return l
			}
		}
		t.Fatal("system df has no Build Cache line")
		return ""
	}
	// The image holds every layer of the cache: the cache alone holds none.
	if got := dfLine(); got != "Build Cache: 3 0 0B 0B" {
		t.Fatalf("with the image: %q", got)
	}
	s.ok(nil, "rmi", "cached")
	got := dfLine()
	if !strings.HasPrefix(got, "Build Cache: 3 0 3") || strings.HasSuffix(got, " 0B") {
		t.Fatalf("without the image, the cache keeps its layers (~300kB): %q", got)
	}
	if table := s.ok(nil, "system", "df"); !strings.Contains(table, "Build Cache") {
		t.Fatalf("table lacks the Build Cache line:\n%s", table)
	}

	if out := s.ok(nil, "system", "prune", "-f"); strings.Contains(out, "Deleted build cache objects:") {
		t.Fatalf("system prune without -a dropped cache in use:\n%s", out)
	}
	if got := dfLine(); !strings.HasPrefix(got, "Build Cache: 3 0 3") {
		t.Fatalf("after system prune without -a: %q", got)
	}
	// -a spares images in use; a stopped container goes first (docker's).
	s.ok(nil, "run", "-d", "--name", "keeps-busybox", "busybox", "sleep", "60")
	out := s.ok(nil, "system", "prune", "-a", "-f")
	if !strings.Contains(out, "Deleted build cache objects:") || strings.Contains(out, "Total reclaimed space: 0B") {
		t.Fatalf("system prune did not drop the cache:\n%s", out)
	}
	if got := dfLine(); got != "Build Cache: 0 0 0B 0B" {
		t.Fatalf("after system prune -a: %q", got)
	}
	if left, _ := filepath.Glob(filepath.Join(s.root, "layers", "overlay", "layers", "*")); len(left) != 1 {
		t.Fatalf("layers left after prune (want busybox's alone): %v", left)
	}
	// The next build runs every step again.
	if out := s.ok(nil, "build", dir); strings.Contains(out, "Using cache") {
		t.Fatalf("the cache survived system prune:\n%s", out)
	}
}

// TestE2EBuildCopyWritesAPathTwice: two COPY sources holding the same
// name make a layer tar the layer store cannot rebuild from its files; the
// tar is then written again and kept as a blob, so the image saves and
// checks, and the last source wins.
func TestE2EBuildCopyWritesAPathTwice(t *testing.T) {
	s := newContainerStore(t)
	dir := buildContext(t, map[string]string{
		"Dockerfile": "FROM busybox\nCOPY a/ b/ /dst/\n",
		"a/same":     "from a\n",
		"b/same":     "from b\n",
	})
	id := builtID(t, s.ok(nil, "build", "-t", "twice", dir))
	if got := s.ok(nil, "run", "--rm", "--network", "none", "twice", "cat", "/dst/same"); got != "from b\n" {
		t.Fatalf("/dst/same = %q", got)
	}
	if r := s.run(nil, "system", "check"); r.code != 0 {
		t.Fatalf("system check after the build: %s%s", r.stdout, r.stderr)
	}
	if saved := s.ok(nil, "save", "twice"); len(saved) == 0 {
		t.Fatalf("save of %s wrote nothing", id)
	}
}
