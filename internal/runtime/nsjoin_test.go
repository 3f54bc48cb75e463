package runtime

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// nsTarget starts `unshare <flags> --fork sleep` and returns the pid of
// the sleep, which holds the new namespaces (the pid one included).
func nsTarget(t *testing.T, flags ...string) int {
	t.Helper()
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("needs unshare (util-linux)")
	}
	// --kill-child: the sleep dies with unshare, which the cleanup kills.
	cmd := exec.Command("unshare", append(flags, "--fork", "--kill-child", "sleep", "1000")...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	children := "/proc/" + strconv.Itoa(cmd.Process.Pid) + "/task/" + strconv.Itoa(cmd.Process.Pid) + "/children"
	// A wait for the fork, not a timed assertion: the limit stops a hang.
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		data, _ := os.ReadFile(children)
		if f := strings.Fields(string(data)); len(f) > 0 {
			pid, _ := strconv.Atoi(f[0])
			return pid
		}
	}
	t.Fatal("unshare did not fork")
	return 0
}

func nsLink(t *testing.T, pid int, name string) string {
	t.Helper()
	l, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/ns/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestCreateJoinsNamespacesByPath: a spec namespace with a path is joined,
// for every type; mount, pid and user ones through the nsenter constructor.
func TestCreateJoinsNamespacesByPath(t *testing.T) {
	rt := newRuntime(t)
	for _, tc := range []struct {
		name  string
		flags []string
		join  []specs.LinuxNamespaceType
	}{
		{name: "mount pid uts ipc net", flags: []string{"--mount", "--pid", "--uts", "--ipc", "--net"},
			join: []specs.LinuxNamespaceType{specs.MountNamespace, specs.PIDNamespace, specs.UTSNamespace, specs.IPCNamespace, specs.NetworkNamespace}},
		{name: "pid", flags: []string{"--pid"}, join: []specs.LinuxNamespaceType{specs.PIDNamespace}},
		{name: "user", flags: []string{"--user", "--map-root-user"}, join: []specs.LinuxNamespaceType{specs.UserNamespace}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			target := nsTarget(t, tc.flags...)
			bundle, spec := newBundle(t, "sh", "-c", "")
			if slicesContains(tc.join, specs.UserNamespace) {
				// The joined namespace maps root only: no group 5 for devpts.
				for i, m := range spec.Mounts {
					if m.Type == "devpts" {
						spec.Mounts[i].Options = []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"}
					}
				}
			}
			var script, want []string
			for _, typ := range tc.join {
				name := nsFileNames[typ]
				spec.Linux.Namespaces = setNamespace(spec.Linux.Namespaces, typ, "/proc/"+strconv.Itoa(target)+"/ns/"+name)
				script = append(script, "readlink /proc/self/ns/"+name)
				want = append(want, nsLink(t, target, name))
			}
			// The sleep is pid 1 of a joined pid namespace.
			script = append(script, "cat /proc/1/cmdline | tr '\\0' ' '; echo")
			want = append(want, "sleep 1000 ")
			if !slicesContains(tc.join, specs.PIDNamespace) {
				want[len(want)-1] = "sh -c " + strings.Join(script, "; ") + " "
			}
			spec.Process.Args[2] = strings.Join(script, "; ")
			res := run(t, rt, bundle, spec)
			if res.code != 0 || res.stdout != strings.Join(want, "\n")+"\n" {
				t.Fatalf("exit %d, stdout %q, stderr %q; want %q", res.code, res.stdout, res.stderr, want)
			}
		})
	}
}

// setNamespace replaces the namespace of type typ with one joined at path.
func setNamespace(nss []specs.LinuxNamespace, typ specs.LinuxNamespaceType, path string) []specs.LinuxNamespace {
	for i := range nss {
		if nss[i].Type == typ {
			nss[i].Path = path
			return nss
		}
	}
	return append(nss, specs.LinuxNamespace{Type: typ, Path: path})
}

func slicesContains(s []specs.LinuxNamespaceType, v specs.LinuxNamespaceType) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
