package cli

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestE2EExport: the tar holds the container's whole filesystem with what
// it wrote and without what it deleted, for a stopped and a running
// container, to stdout and to a file; `import` of it makes an image that
// runs. Nothing stays mounted.
func TestE2EExport(t *testing.T) {
	s := newContainerStore(t)
	s.ok(nil, "run", "--name", "exp", "busybox", "sh", "-c", "echo exported > /hello; rm /etc/group")
	files := tarFiles(t, []byte(s.ok(nil, "export", "exp")))
	if files["hello"] != "exported\n" {
		t.Errorf("export lacks /hello: %q", files["hello"])
	}
	if _, ok := files["etc/group"]; ok {
		t.Error("export holds /etc/group, which the container deleted")
	}
	if _, ok := files["bin/busybox"]; !ok {
		t.Error("export lacks the image's /bin/busybox")
	}
	out := filepath.Join(t.TempDir(), "exp.tar")
	s.ok(nil, "export", "-o", out, "exp")
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if f := tarFiles(t, data); f["hello"] != "exported\n" {
		t.Errorf("export -o lacks /hello")
	}
	s.ok(nil, "import", out, "reimported:latest")
	if got := s.ok(nil, "run", "--rm", "reimported", "cat", "/hello"); got != "exported\n" {
		t.Errorf("imported export: /hello holds %q", got)
	}

	id := strings.TrimSpace(s.ok(nil, "run", "-d", "--name", "live", "busybox", "sh", "-c", "echo running > /live; exec sleep 1000"))
	waitFor(t, "the container to write /live", func() bool { return s.run(nil, "diff", "live").stdout != "" })
	if f := tarFiles(t, []byte(s.ok(nil, "export", "live"))); f["live"] != "running\n" {
		t.Errorf("export of a running container: /live holds %q", f["live"])
	}
	r := s.run(nil, "export", "nosuch")
	if r.code != 1 || !strings.Contains(r.stderr, "No such container: nosuch") {
		t.Errorf("export of a missing container: exit %d, %q", r.code, r.stderr)
	}
	s.ok(nil, "rm", "-f", "live", "exp")
	s.assertClean(t, id)
	if entries, _ := os.ReadDir(filepath.Join(s.root, "run", "mounts")); len(entries) > 0 {
		t.Errorf("temporary mounts left: %v", entries)
	}
}

// tarFiles maps the regular files of a tar to their content.
func tarFiles(t *testing.T, data []byte) map[string]string {
	t.Helper()
	files := map[string]string{}
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return files
		}
		if err != nil {
			t.Fatalf("reading tar: %v", err)
		}
		if hdr.Typeflag == tar.TypeReg {
			body, _ := io.ReadAll(tr)
			files[strings.TrimPrefix(hdr.Name, "./")] = string(body)
		} else {
			files[strings.TrimPrefix(hdr.Name, "./")] = ""
		}
	}
}
