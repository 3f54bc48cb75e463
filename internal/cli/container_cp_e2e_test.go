package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestE2ECopyOut: docker's path rules from a (stopped) container to the
// host, and the tar stream of `cp C:SRC -`.
func TestE2ECopyOut(t *testing.T) {
	s := newContainerStore(t)
	s.ok(nil, "run", "--name", "src", "busybox", "sh", "-c",
		"mkdir -p /data/sub && echo one > /data/one && echo two > /data/sub/two && chown -R 1234:5678 /data")
	host := t.TempDir()
	mustExist := func(rel, content string) {
		t.Helper()
		data, err := os.ReadFile(filepath.Join(host, rel))
		if err != nil || string(data) != content {
			t.Errorf("%s: %q, %v; want %q", rel, data, err, content)
		}
	}
	s.ok(nil, "cp", "src:/data/one", host) // file into a directory
	mustExist("one", "one\n")
	s.ok(nil, "cp", "src:/data/one", filepath.Join(host, "renamed")) // file as a new name
	mustExist("renamed", "one\n")
	os.WriteFile(filepath.Join(host, "existing"), []byte("old"), 0o644)
	s.ok(nil, "cp", "src:/data/sub/two", filepath.Join(host, "existing")) // file onto a file
	mustExist("existing", "two\n")
	s.ok(nil, "cp", "src:/data", filepath.Join(host, "newdir")) // directory as a new name
	mustExist("newdir/sub/two", "two\n")
	s.ok(nil, "cp", "src:/data", host) // directory into a directory
	mustExist("data/one", "one\n")
	os.Mkdir(filepath.Join(host, "into"), 0o755)
	s.ok(nil, "cp", "src:/data/.", filepath.Join(host, "into")) // a directory's content
	mustExist("into/one", "one\n")
	mustExist("into/sub/two", "two\n")
	var st syscall.Stat_t
	if err := syscall.Stat(filepath.Join(host, "data/one"), &st); err != nil || st.Uid != 1234 || st.Gid != 5678 {
		t.Errorf("owner of a copied file: %d:%d (%v), want 1234:5678", st.Uid, st.Gid, err)
	}

	for _, c := range []struct{ args []string }{
		{[]string{"cp", "src:/nope", host}},
		{[]string{"cp", "src:/data", filepath.Join(host, "existing")}},
		{[]string{"cp", "src:/data/one", filepath.Join(host, "missing") + "/"}},
		{[]string{"cp", "src:/data/one/", host}},
		{[]string{"cp", "src:/a", "src:/b"}},
		{[]string{"cp", "/a", "/b"}},
	} {
		if r := s.run(nil, c.args...); r.code == 0 || r.stderr == "" {
			t.Errorf("%v: exit %d, stderr %q; want an error", c.args, r.code, r.stderr)
		}
	}
	if r := s.run(nil, "cp", "src:/nope", host); !strings.Contains(r.stderr, "Could not find the file /nope in container src") {
		t.Errorf("missing source: %q", r.stderr)
	}

	files := tarFiles(t, []byte(s.ok(nil, "cp", "src:/data", "-")))
	if files["data/one"] != "one\n" || files["data/sub/two"] != "two\n" {
		t.Errorf("cp to -: %v", files)
	}
	s.ok(nil, "rm", "src")
}

// TestE2ECopyIn: copies into a stopped and a running container, owners
// (root's, or the source's with -a), and a tar stream on stdin.
func TestE2ECopyIn(t *testing.T) {
	s := newContainerStore(t)
	host := t.TempDir()
	writeHost := func(rel, content string) string {
		p := filepath.Join(host, rel)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	f := writeHost("dir/file", "from host\n")
	os.Chown(f, 4321, 4321)
	s.ok(nil, "create", "--name", "dst", "busybox", "sh", "-c",
		"cat /dir/file /tmp/file /new/file /streamed; stat -c %u /dir/file /tmp/file")
	s.ok(nil, "cp", filepath.Join(host, "dir"), "dst:/")         // a directory into /
	s.ok(nil, "cp", "-a", f, "dst:/tmp")                         // a file into a directory, owner kept
	s.ok(nil, "cp", filepath.Join(host, "dir")+"/.", "dst:/new") // content as a new directory
	var tarball bytes.Buffer
	tarball.Write(layerTar(t, map[string][]byte{"streamed": []byte("from a tar\n")}))
	s.ok(&tarball, "cp", "-", "dst:/")
	s.ok(nil, "start", "dst")
	s.ok(nil, "wait", "dst")
	want := "from host\nfrom host\nfrom host\nfrom a tar\n0\n4321\n"
	if got := s.ok(nil, "logs", "dst"); got != want {
		t.Errorf("the container read:\n%s\nwant:\n%s", got, want)
	}
	if r := s.run(strings.NewReader(""), "cp", "-", "dst:/dir/file"); r.code == 0 {
		t.Errorf("cp - into a file: exit 0")
	}

	// A running container sees a copy at once.
	id := strings.TrimSpace(s.ok(nil, "run", "-d", "--name", "live", "busybox", "sh", "-c",
		"while [ ! -f /tmp/go ]; do sleep 0.1; done; cat /tmp/go"))
	s.ok(nil, "cp", writeHost("go", "go\n"), "live:/tmp/go")
	if got := s.ok(nil, "wait", "live"); got != "0\n" {
		t.Errorf("wait: %q", got)
	}
	if got := s.ok(nil, "logs", "live"); got != "go\n" {
		t.Errorf("running container read %q", got)
	}
	s.ok(nil, "create", "--name", "ro", "--read-only", "busybox", "true")
	if r := s.run(nil, "cp", f, "ro:/tmp/"); r.code == 0 || !strings.Contains(r.stderr, "container rootfs is marked read-only") {
		t.Errorf("cp into a --read-only container: exit %d, %q", r.code, r.stderr)
	}
	s.ok(nil, "rm", "dst", "live", "ro")
	s.assertClean(t, id)
}

// TestE2ECopySymlinkEscape (CVE-2018-15664 class): a container's symlinks
// are resolved inside its rootfs, reading and writing, running or not.
func TestE2ECopySymlinkEscape(t *testing.T) {
	s := newContainerStore(t)
	marker := "strata-cp-escape-" + filepath.Base(t.TempDir())
	s.ok(nil, "run", "-d", "--name", "evil", "busybox", "sh", "-c",
		"echo container-secret > /etc/shadow; ln -s / /evil; ln -s ../../../../../../ /rel; "+
			"ln -s /etc/shadow /abs; ln -s ../../../../../etc/shadow /tmp/deep; mkdir /tmp/"+marker+"; exec sleep 1000")
	// The marker directory is made last: once it shows, every link exists.
	waitFor(t, "the container's links", func() bool {
		return strings.Contains(s.run(nil, "diff", "evil").stdout, "A /tmp/"+marker)
	})
	host := t.TempDir()
	for i, src := range []string{"evil:/evil/etc/shadow", "evil:/rel/etc/shadow", "evil:/evil/../../etc/shadow"} {
		dst := filepath.Join(host, "out"+string(rune('a'+i)))
		s.ok(nil, "cp", src, dst)
		if data, _ := os.ReadFile(dst); string(data) != "container-secret\n" {
			t.Errorf("cp %s read %q, want the container's /etc/shadow", src, data)
		}
	}
	for _, link := range []string{"/abs", "/tmp/deep"} {
		dst := filepath.Join(host, "followed"+filepath.Base(link))
		s.ok(nil, "cp", "-L", "evil:"+link, dst)
		if data, _ := os.ReadFile(dst); string(data) != "container-secret\n" {
			t.Errorf("cp -L of %s read %q", link, data)
		}
	}
	// Into the container through links that point at / (the host's, if
	// followed on the host): the files land in the container.
	src := filepath.Join(host, "payload")
	os.WriteFile(src, []byte("payload\n"), 0o644)
	for _, dst := range []string{"evil:/evil/tmp/" + marker + "/", "evil:/rel/tmp/" + marker + "/"} {
		s.ok(nil, "cp", src, dst)
	}
	if _, err := os.Stat(filepath.Join("/tmp", marker)); err == nil {
		os.RemoveAll(filepath.Join("/tmp", marker))
		t.Fatal("cp into the container wrote to the host's /tmp")
	}
	s.ok(nil, "stop", "-t", "0", "evil")
	files := tarFiles(t, []byte(s.ok(nil, "cp", "evil:/tmp/"+marker, "-")))
	if files[marker+"/payload"] != "payload\n" {
		t.Errorf("the payload is not in the container: %v", files)
	}
	s.ok(nil, "rm", "evil")
}
