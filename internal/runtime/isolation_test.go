package runtime

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestIsolation runs one container per property and checks what the
// workload sees from inside.
func TestIsolation(t *testing.T) {
	rt := newRuntime(t)
	u32 := func(v uint32) *uint32 { return &v }
	for _, tc := range []struct {
		name   string
		script string
		edit   func(*specs.Spec)
		stdout string // exact, when set
		has    string // substring of stdout+stderr, when set
		code   int
	}{
		{name: "own pid namespace", script: "echo $$", stdout: "1\n"},
		{name: "hostname", script: "hostname", stdout: "strata-test\n"},
		// The trailing command keeps the shell from exec'ing ls in its place.
		{name: "only stdio fds", script: "ls /proc/$$/fd; :", stdout: "0\n1\n2\n"},
		{name: "docker capabilities", script: "grep CapEff /proc/self/status", stdout: "CapEff:\t" + dockerCapEff + "\n"},
		{name: "bounding set", script: "grep CapBnd /proc/self/status", stdout: "CapBnd:\t" + dockerCapEff + "\n"},
		{name: "proc sys read-only", script: "echo x > /proc/sys/kernel/domainname", has: "Read-only file system", code: 1},
		{name: "masked file", script: "wc -c < /proc/timer_list", stdout: "0\n"},
		{name: "masked directory", script: "ls -a /proc/acpi | wc -l; touch /proc/acpi/x", stdout: "2\n", has: "Read-only file system", code: 1},
		{name: "sysfs read-only", script: "touch /sys/x", has: "Read-only file system", code: 1},
		{name: "network namespace", script: "ls /sys/class/net", stdout: "lo\n"},
		{name: "devices", script: "stat -c '%n %A %t:%T %u:%g' /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty",
			stdout: "/dev/null crw-rw-rw- 1:3 0:0\n/dev/zero crw-rw-rw- 1:5 0:0\n/dev/full crw-rw-rw- 1:7 0:0\n" +
				"/dev/random crw-rw-rw- 1:8 0:0\n/dev/urandom crw-rw-rw- 1:9 0:0\n/dev/tty crw-rw-rw- 5:0 0:0\n"},
		{name: "dev symlinks", script: "for l in /dev/fd /dev/stdin /dev/ptmx; do readlink $l; done",
			stdout: "/proc/self/fd\n/proc/self/fd/0\npts/ptmx\n"},
		{name: "device cgroup denies", script: "mknod /tmp/sda b 8 0 && head -c1 /tmp/sda", has: "Operation not permitted", code: 1},
		{name: "own cgroup is the root", script: "cat /proc/self/cgroup | cut -d: -f3 | sort -u", stdout: "/\n"},
		{name: "cgroup mount read-only", script: "mkdir /sys/fs/cgroup/pids/x", has: "Read-only file system", code: 1},
		{name: "env and cwd", script: "echo $FOO; pwd", stdout: "bar\n/work/dir\n", edit: func(s *specs.Spec) {
			s.Process.Env = append(s.Process.Env, "FOO=bar")
			s.Process.Cwd = "/work/dir"
		}},
		{name: "read-only root", script: "touch /x", has: "Read-only file system", code: 1, edit: func(s *specs.Spec) {
			s.Root.Readonly = true
		}},
		{name: "rlimit", script: "ulimit -n; ulimit -Hn", stdout: "1024\n4096\n", edit: func(s *specs.Spec) {
			s.Process.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 1024, Hard: 4096}}
		}},
		{name: "user and groups", script: "id; grep CapEff /proc/self/status",
			stdout: "uid=1000 gid=1000 groups=10(wheel),100(users)\nCapEff:\t0000000000000000\n",
			edit: func(s *specs.Spec) {
				s.Process.User = specs.User{UID: 1000, GID: 1000, AdditionalGids: []uint32{10, 100}}
			}},
		{name: "umask", script: "umask", stdout: "0027\n", edit: func(s *specs.Spec) { s.Process.User.Umask = u32(0o027) }},
		{name: "no_new_privs", script: "grep NoNewPrivs /proc/self/status", stdout: "NoNewPrivs:\t1\n",
			edit: func(s *specs.Spec) { s.Process.NoNewPrivileges = true }},
		{name: "ambient capabilities", script: "grep -E 'CapEff|CapAmb' /proc/self/status",
			stdout: "CapEff:\t0000000000000400\nCapAmb:\t0000000000000400\n", edit: func(s *specs.Spec) {
				s.Process.User = specs.User{UID: 1000, GID: 1000}
				caps := []string{"CAP_NET_BIND_SERVICE"}
				s.Process.Capabilities = &specs.LinuxCapabilities{Bounding: caps, Permitted: caps, Inheritable: caps, Effective: caps, Ambient: caps}
			}},
		{name: "sysctl", script: "cat /proc/sys/kernel/shmmni", stdout: "1234\n", edit: func(s *specs.Spec) {
			s.Linux.Sysctl = map[string]string{"kernel.shmmni": "1234"}
		}},
		{name: "bind mount read-only", script: "cat /mnt/data/hello; touch /mnt/data/x", has: "Read-only file system", code: 1,
			edit: func(s *specs.Spec) {
				dir := t.TempDir()
				os.WriteFile(dir+"/hello", []byte("hello\n"), 0o644)
				s.Mounts = append(s.Mounts, specs.Mount{Destination: "/mnt/data", Type: "bind", Source: dir, Options: []string{"rbind", "ro"}})
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bundle, spec := newBundle(t, "sh", "-c", tc.script)
			if tc.edit != nil {
				tc.edit(spec)
			}
			res := run(t, rt, bundle, spec)
			if res.code != tc.code ||
				(tc.stdout != "" && res.stdout != tc.stdout) ||
				(tc.has != "" && !strings.Contains(res.stdout+res.stderr, tc.has)) {
				t.Fatalf("exit %d, stdout %q, stderr %q; want exit %d, stdout %q, containing %q",
					res.code, res.stdout, res.stderr, tc.code, tc.stdout, tc.has)
			}
		})
	}
}

func TestPreservedFds(t *testing.T) {
	rt := newRuntime(t)
	bundle, spec := newBundle(t, "sh", "-c", "ls /proc/$$/fd; echo extra >&3")
	extra := newOutput(t)
	writeSpec(t, bundle, spec)
	id := newID(t)
	forceDelete(t, rt, id)
	stdout := newOutput(t)
	ctx := context.Background()
	if err := rt.Create(ctx, id, bundle, CreateOpts{Stdout: stdout.w, ExtraFiles: []*os.File{extra.w}}); err != nil {
		t.Fatal(err)
	}
	stdout.collect()
	extra.collect()
	if err := rt.Start(ctx, id); err != nil {
		t.Fatal(err)
	}
	if code, err := rt.Wait(ctx, id); err != nil || code != 0 {
		t.Fatalf("exit %d, %v", code, err)
	}
	if got := stdout.String(); got != "0\n1\n2\n3\n" {
		t.Errorf("fds %q, want 0-3", got)
	}
	if got := extra.String(); got != "extra\n" {
		t.Errorf("fd 3 got %q", got)
	}
}

// TestCgroupLimits checks the limits from the container's side: the memory
// limit it reads, and a fork loop stopped by the pids limit.
func TestCgroupLimits(t *testing.T) {
	rt := newRuntime(t)
	limit, pids := int64(48<<20), int64(6)
	bundle, spec := newBundle(t, "sh", "-c",
		"cat /sys/fs/cgroup/memory/memory.limit_in_bytes; for i in 1 2 3 4 5 6 7 8 9 10; do sleep 100 & done; echo forked")
	spec.Linux.Resources.Memory = &specs.LinuxMemory{Limit: &limit}
	spec.Linux.Resources.Pids = &specs.LinuxPids{Limit: &pids}
	res := run(t, rt, bundle, spec)
	if got := lines(res.stdout); got[0] != strconv.FormatInt(limit, 10) {
		t.Errorf("the container reads memory limit %q, want %d", got[0], limit)
	}
	if !strings.Contains(res.stderr, "can't fork") && !strings.Contains(res.stderr, "Resource temporarily unavailable") {
		t.Errorf("10 forks under a pids limit of %d did not fail: exit %d, stdout %q, stderr %q", pids, res.code, res.stdout, res.stderr)
	}
}

// TestMountTargetsStayInRootfs gives the image a symlink to a host
// directory and mounts through it: the mount must land in the rootfs.
func TestMountTargetsStayInRootfs(t *testing.T) {
	rt := newRuntime(t)
	hostDir := t.TempDir()
	bundle, spec := newBundle(t, "sh", "-c", "ls -d "+hostDir+"/mnt && mount | grep -c "+hostDir+"/mnt")
	if err := os.MkdirAll(filepath.Join(bundle, "rootfs", hostDir), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(hostDir, filepath.Join(bundle, "rootfs", "evil")); err != nil {
		t.Fatal(err)
	}
	spec.Mounts = append(spec.Mounts, specs.Mount{Destination: "/evil/mnt", Type: "tmpfs", Source: "tmpfs"})
	res := run(t, rt, bundle, spec)
	if res.code != 0 || res.stdout != hostDir+"/mnt\n1\n" {
		t.Fatalf("exit %d, stdout %q, stderr %q", res.code, res.stdout, res.stderr)
	}
	if _, err := os.Stat(filepath.Join(hostDir, "mnt")); !os.IsNotExist(err) {
		t.Fatalf("the mount target was created on the host: %v", err)
	}
	if _, err := os.Stat(filepath.Join(bundle, "rootfs", hostDir, "mnt")); err != nil {
		t.Fatalf("the mount target is not in the rootfs: %v", err)
	}
}
