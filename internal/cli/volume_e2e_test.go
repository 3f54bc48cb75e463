package cli

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/strata-containers/strata/internal/testutil"
)

// TestE2EVolumeLifecycle: data written to a named volume survives the
// container and appears in the next one; a :ro mount rejects writes; a
// volume in use cannot be removed; ls, inspect, rm and prune as docker's.
func TestE2EVolumeLifecycle(t *testing.T) {
	s := newContainerStore(t)
	if got := s.ok(nil, "volume", "create", "--label", "app=test", "data"); got != "data\n" {
		t.Fatalf("volume create printed %q", got)
	}
	s.ok(nil, "run", "--rm", "-v", "data:/data", "busybox", "sh", "-c", "echo kept > /data/f")
	if got := s.ok(nil, "run", "--rm", "-v", "data:/data", "busybox", "cat", "/data/f"); got != "kept\n" {
		t.Fatalf("second container read %q", got)
	}
	r := s.run(nil, "run", "--rm", "-v", "data:/data:ro", "busybox", "sh", "-c", "echo x > /data/g")
	if r.code == 0 || !strings.Contains(r.stderr, "Read-only file system") {
		t.Fatalf("write to a :ro volume: exit %d, stderr %q", r.code, r.stderr)
	}

	id := strings.TrimSpace(s.ok(nil, "create", "-v", "data:/data", "busybox", "true"))
	r = s.run(nil, "volume", "rm", "data")
	if want := "Error response from daemon: remove data: volume is in use - [" + id + "]\n"; r.code != 1 || r.stderr != want {
		t.Fatalf("volume rm of a volume in use: exit %d, stderr %q, want %q", r.code, r.stderr, want)
	}
	df := s.ok(nil, "system", "df", "--format", "{{.Type}}: {{.TotalCount}} {{.Active}} {{.Size}} {{.Reclaimable}}")
	if !strings.Contains(df, "Local Volumes: 1 1 5B 0B (0%)\n") {
		t.Fatalf("system df:\n%s", df)
	}
	if got := s.ok(nil, "volume", "ls", "--filter", "dangling=true", "-q"); got != "" {
		t.Fatalf("dangling volumes: %q", got)
	}
	var vols []map[string]any
	if err := json.Unmarshal([]byte(s.ok(nil, "volume", "inspect", "data")), &vols); err != nil || len(vols) != 1 {
		t.Fatalf("volume inspect: %v %v", vols, err)
	}
	v := vols[0]
	if v["Name"] != "data" || v["Driver"] != "local" || v["Scope"] != "local" ||
		v["Mountpoint"] != filepath.Join(s.root, "volumes", "data", "_data") || v["Labels"].(map[string]any)["app"] != "test" {
		t.Fatalf("volume inspect: %v", v)
	}
	s.ok(nil, "rm", id)
	if got := s.ok(nil, "volume", "ls"); got != "DRIVER    VOLUME NAME\nlocal     data\n" {
		t.Fatalf("volume ls:\n%s", got)
	}
	if got := s.ok(nil, "volume", "prune", "-f"); got != "Total reclaimed space: 0B\n" {
		t.Fatalf("prune of anonymous volumes removed a named one:\n%s", got)
	}
	if got := s.ok(nil, "volume", "prune", "-af"); got != "Deleted Volumes:\ndata\n\nTotal reclaimed space: 5B\n" {
		t.Fatalf("volume prune -a:\n%s", got)
	}
	if r := s.run(nil, "volume", "inspect", "data"); r.code != 1 || !strings.Contains(r.stderr, "no such volume") {
		t.Fatalf("inspect of a removed volume: exit %d, %q", r.code, r.stderr)
	}
	s.ok(nil, "volume", "rm", "-f", "data") // missing: fine with -f
}

// TestE2EVolumeCreateConcurrent: 20 processes create one name at once;
// all succeed (docker's create is idempotent) and one volume exists.
func TestE2EVolumeCreateConcurrent(t *testing.T) {
	s := newStore(t)
	var wg sync.WaitGroup
	results := make([]result, 20)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = s.run(nil, "volume", "create", "same")
		}()
	}
	wg.Wait()
	for i, r := range results {
		if r.code != 0 || r.stdout != "same\n" {
			t.Errorf("create %d: exit %d, stdout %q, stderr %q", i, r.code, r.stdout, r.stderr)
		}
	}
	if got := s.ok(nil, "volume", "ls", "-q"); got != "same\n" {
		t.Fatalf("volume ls -q: %q", got)
	}
	entries, _ := os.ReadDir(filepath.Join(s.root, "volumes"))
	if len(entries) != 2 { // same/ and volumes.lock: no temporary leftovers
		t.Fatalf("volume store holds %d entries", len(entries))
	}
}

// TestE2EBindAndTmpfs: a bind mount shows the host's files and writes go
// to the host; -v creates a missing source, --mount refuses one; tmpfs
// mounts are tmpfs inside the container.
func TestE2EBindAndTmpfs(t *testing.T) {
	s := newContainerStore(t)
	host := t.TempDir()
	if err := os.WriteFile(filepath.Join(host, "from-host"), []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	got := s.ok(nil, "run", "--rm", "-v", host+":/h", "busybox", "sh", "-c", "cat /h/from-host; echo back > /h/from-container")
	if got != "hello" {
		t.Fatalf("container read %q from the bind mount", got)
	}
	if data, err := os.ReadFile(filepath.Join(host, "from-container")); err != nil || string(data) != "back\n" {
		t.Fatalf("host sees %q, %v", data, err)
	}
	got = s.ok(nil, "run", "--rm", "--mount", "type=bind,src="+host+",dst=/h,readonly", "busybox", "sh", "-c", "touch /h/x 2>&1; true")
	if !strings.Contains(got, "Read-only file system") {
		t.Fatalf("write to a readonly bind: %q", got)
	}
	missing := filepath.Join(t.TempDir(), "made", "by", "v")
	s.ok(nil, "run", "--rm", "-v", missing+":/m", "busybox", "true")
	if fi, err := os.Stat(missing); err != nil || !fi.IsDir() {
		t.Fatalf("-v did not create its source: %v", err)
	}
	r := s.run(nil, "run", "--rm", "--mount", "type=bind,src="+missing+"-not,dst=/m", "busybox", "true")
	if r.code != 125 || !strings.Contains(r.stderr, "bind source path does not exist") {
		t.Fatalf("--mount of a missing source: exit %d, %q", r.code, r.stderr)
	}
	got = s.ok(nil, "run", "--rm", "--tmpfs", "/t:size=1m", "--mount", "type=tmpfs,dst=/u,tmpfs-mode=1770",
		"busybox", "sh", "-c", "grep ' /t ' /proc/mounts; grep ' /u ' /proc/mounts; stat -c %a /u")
	lines := strings.Split(strings.TrimSpace(got), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "tmpfs /t tmpfs rw,nosuid,nodev,noexec") ||
		!strings.Contains(lines[0], "size=1024k") || !strings.HasPrefix(lines[1], "tmpfs /u tmpfs") || lines[2] != "1770" {
		t.Fatalf("tmpfs mounts:\n%s", got)
	}
}

// seededImage imports busybox with /data (owned by 1000:1000, mode 750)
// holding a file, declared a VOLUME.
func seededImage(t *testing.T, s *store) {
	t.Helper()
	var out bytes.Buffer
	tw := tar.NewWriter(&out)
	tr := tar.NewReader(bytes.NewReader(testutil.BusyboxRootfs(t)))
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(tw, tr); err != nil {
			t.Fatal(err)
		}
	}
	for _, h := range []*tar.Header{
		{Name: "data/", Typeflag: tar.TypeDir, Mode: 0o750, Uid: 1000, Gid: 1000},
		{Name: "data/seed", Typeflag: tar.TypeReg, Mode: 0o640, Uid: 1000, Gid: 1000, Size: 7},
	} {
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := tw.Write([]byte("seeded\n")); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	s.ok(nil, "import", "--change", `CMD ["sh"]`, "--change", "VOLUME /data", writeFile(t, "seeded.tar", out.Bytes()), "seeded")
}

// TestE2EImageVolumes: an image's VOLUME becomes an anonymous volume,
// filled from the image (copy-up, owners and modes kept), shown in
// inspect's Mounts and removed by rm -v; a new named volume is filled the
// same way, an existing one is not; --volumes-from shares a container's
// volumes, read-only with :ro.
func TestE2EImageVolumes(t *testing.T) {
	s := newContainerStore(t)
	seededImage(t, s)
	if r := s.run(nil, "create", "--name", "x", "seeded"); r.code != 125 {
		t.Fatalf("create with a bad name: exit %d", r.code)
	}
	if got := s.ok(nil, "volume", "ls", "-q"); got != "" {
		t.Fatalf("a failed create left volumes: %q", got)
	}
	got := s.ok(nil, "run", "--name", "anon", "seeded", "sh", "-c", "cat /data/seed; stat -c '%u:%g %a' /data /data/seed")
	if got != "seeded\n1000:1000 750\n1000:1000 640\n" {
		t.Fatalf("copy-up into the anonymous volume:\n%s", got)
	}
	var cs []struct {
		Mounts []map[string]any
	}
	if err := json.Unmarshal([]byte(s.ok(nil, "inspect", "anon")), &cs); err != nil || len(cs) != 1 || len(cs[0].Mounts) != 1 {
		t.Fatalf("inspect: %v %v", cs, err)
	}
	m := cs[0].Mounts[0]
	name, _ := m["Name"].(string)
	if m["Type"] != "volume" || len(name) != 64 || m["Destination"] != "/data" || m["Driver"] != "local" || m["RW"] != true ||
		m["Source"] != filepath.Join(s.root, "volumes", name, "_data") {
		t.Fatalf("inspect Mounts: %v", m)
	}
	if got := s.ok(nil, "volume", "ls", "-q"); got != name+"\n" {
		t.Fatalf("volume ls -q: %q, want %s", got, name)
	}

	s.ok(nil, "run", "--name", "src", "-v", "shared:/data", "seeded", "sh", "-c", "echo more > /data/more")
	got = s.ok(nil, "run", "--rm", "--volumes-from", "src", "seeded", "sh", "-c", "cat /data/seed /data/more")
	if got != "seeded\nmore\n" {
		t.Fatalf("--volumes-from read %q", got)
	}
	r := s.run(nil, "run", "--rm", "--volumes-from", "src:ro", "seeded", "touch", "/data/x")
	if r.code == 0 || !strings.Contains(r.stderr, "Read-only file system") {
		t.Fatalf("write through --volumes-from :ro: exit %d, %q", r.code, r.stderr)
	}
	s.ok(nil, "run", "--rm", "-v", "shared:/data", "seeded", "rm", "/data/seed")
	if got := s.ok(nil, "run", "--rm", "-v", "shared:/data", "seeded", "ls", "/data"); got != "more\n" {
		t.Fatalf("a non-empty volume was filled again: %q", got)
	}

	s.ok(nil, "rm", "-v", "anon", "src")
	if got := s.ok(nil, "volume", "ls", "-q"); got != "shared\n" {
		t.Fatalf("after rm -v: %q", got)
	}
	s.ok(nil, "run", "--rm", "seeded", "true")
	if got := s.ok(nil, "volume", "ls", "-q"); got != "shared\n" {
		t.Fatalf("--rm left its anonymous volume: %q", got)
	}
}

// TestE2EVolumeOpts: a volume created with --opt type=tmpfs is a tmpfs,
// mounted on its directory when a container first uses it, shared by the
// containers that use it and unmounted when the volume is removed.
func TestE2EVolumeOpts(t *testing.T) {
	s := newContainerStore(t)
	s.ok(nil, "volume", "create", "--opt", "type=tmpfs", "--opt", "device=tmpfs", "--opt", "o=size=2m", "scratch")
	data := filepath.Join(s.root, "volumes", "scratch", "_data")
	t.Cleanup(func() { _ = syscall.Unmount(data, syscall.MNT_DETACH) }) // should the test fail before volume rm
	got := s.ok(nil, "run", "--rm", "-v", "scratch:/s", "busybox", "sh", "-c", "grep ' /s ' /proc/mounts; echo x > /s/f")
	if !strings.HasPrefix(got, "tmpfs /s tmpfs rw") || !strings.Contains(got, "size=2048k") {
		t.Fatalf("volume mount inside the container: %q", got)
	}
	if got := s.ok(nil, "run", "--rm", "-v", "scratch:/s", "busybox", "cat", "/s/f"); got != "x\n" {
		t.Fatalf("second container read %q", got)
	}
	var vols []struct{ Options map[string]string }
	if err := json.Unmarshal([]byte(s.ok(nil, "volume", "inspect", "scratch")), &vols); err != nil || vols[0].Options["type"] != "tmpfs" {
		t.Fatalf("inspect: %v %v", vols, err)
	}
	s.ok(nil, "volume", "rm", "scratch")
	if mi, _ := os.ReadFile("/proc/self/mountinfo"); strings.Contains(string(mi), data) {
		t.Fatalf("volume rm left %s mounted", data)
	}
	r := s.run(nil, "volume", "create", "--opt", "bogus=1", "bad")
	if r.code != 1 || !strings.Contains(r.stderr, `invalid option: "bogus"`) {
		t.Fatalf("create with a bad option: exit %d, %q", r.code, r.stderr)
	}
}

// TestE2EVolumeCreateKilled kills `volume create` at many points of its
// run: afterwards every volume the store lists is whole (meta.json and
// _data), and the next command sweeps what the killed ones left.
func TestE2EVolumeCreateKilled(t *testing.T) {
	s := newStore(t)
	s.ok(nil, "volume", "ls") // creates the store, so kills land in the create itself
	for i := range 40 {
		cmd := s.command(nil, "volume", "create", "v"+strconv.Itoa(i))
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(i) * 250 * time.Microsecond) // spreads the kills over the run
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}
	listed := strings.Fields(s.ok(nil, "volume", "ls", "-q"))
	dir := filepath.Join(s.root, "volumes")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if e.Name() == "volumes.lock" {
			continue
		}
		names = append(names, e.Name())
		for _, part := range []string{"meta.json", "_data"} {
			if _, err := os.Stat(filepath.Join(dir, e.Name(), part)); err != nil {
				t.Errorf("volume %s is not whole: %v", e.Name(), err)
			}
		}
	}
	if strings.Join(names, " ") != strings.Join(listed, " ") {
		t.Fatalf("store holds %v, ls lists %v", names, listed)
	}
	t.Logf("%d of 40 killed creates finished", len(listed))
}
