package runtime

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// shHook is a hook running a busybox shell script from the bundle's rootfs
// (a host path: the runtime-namespace hooks resolve it on the host).
func shHook(bundle, script string) specs.Hook {
	return specs.Hook{Path: filepath.Join(bundle, "rootfs/bin/sh"), Args: []string{"sh", "-c", script}, Env: []string{"HOOKVAR=set"}}
}

// TestHooksOrderStateAndNamespaces runs every kind of hook and checks that
// each ran once, in lifecycle order, with the state on stdin, its own env,
// and in the namespaces the runtime-spec gives it.
func TestHooksOrderStateAndNamespaces(t *testing.T) {
	bundle, spec := newBundle(t, "true")
	rt := newRuntime(t)
	log := filepath.Join(bundle, "rootfs/hooks.log") // also /hooks.log inside
	// Each hook appends its name, the status from its stdin, $HOOKVAR, and
	// whether it sees the host's mount namespace.
	record := func(name, logPath string) string {
		return `read -r st; s=${st#*\"status\":\"}; ns=container; ` +
			`[ "$(readlink /proc/self/ns/mnt)" = "` + mntNS(t) + `" ] && ns=host; ` +
			`echo "` + name + ` ${s%%\"*} $HOOKVAR $ns" >> ` + logPath
	}
	spec.Hooks = &specs.Hooks{
		//lint:ignore SA1019 runtimes must still run prestart hooks
		Prestart:        []specs.Hook{shHook(bundle, record("prestart", log))},
		CreateRuntime:   []specs.Hook{shHook(bundle, record("createRuntime", log))},
		CreateContainer: []specs.Hook{shHook(bundle, record("createContainer", log))},
		// After pivot_root: the path and the log are the container's.
		StartContainer: []specs.Hook{{Path: "/bin/sh", Args: []string{"sh", "-c", record("startContainer", "/hooks.log")}, Env: []string{"HOOKVAR=set"}}},
		Poststart:      []specs.Hook{shHook(bundle, record("poststart", log))},
		Poststop:       []specs.Hook{shHook(bundle, record("poststop", log))},
	}
	run(t, rt, bundle, spec)
	data, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	want := "prestart created set host\ncreateRuntime created set host\ncreateContainer created set container\n" +
		"startContainer created set container\npoststart running set host\npoststop stopped set host\n"
	if string(data) != want {
		t.Errorf("hooks ran as\n%s\nwant\n%s", data, want)
	}
}

func mntNS(t *testing.T) string {
	ns, err := os.Readlink("/proc/self/ns/mnt")
	if err != nil {
		t.Fatal(err)
	}
	return ns
}

// TestCreateHookFailureLeavesNothing: a failing createRuntime hook fails
// Create with the hook's output, and no container is left.
func TestCreateHookFailureLeavesNothing(t *testing.T) {
	bundle, spec := newBundle(t, "touch", "/ran")
	rt := newRuntime(t)
	spec.Hooks = &specs.Hooks{CreateRuntime: []specs.Hook{shHook(bundle, "echo hook broke >&2; exit 3")}}
	writeSpec(t, bundle, spec)
	id := newID(t)
	forceDelete(t, rt, id)
	err := rt.Create(context.Background(), id, bundle, CreateOpts{})
	if err == nil || !strings.Contains(err.Error(), "hook broke") {
		t.Fatalf("create with a failing hook: %v, want the hook's error", err)
	}
	if _, err := rt.State(context.Background(), id); err == nil {
		t.Error("the container exists after its createRuntime hook failed")
	}
}

// TestHookTimeoutKills: a hook past its timeout is killed and fails Create.
func TestHookTimeoutKills(t *testing.T) {
	bundle, spec := newBundle(t, "true")
	rt := newRuntime(t)
	pidFile := filepath.Join(t.TempDir(), "hookpid")
	one := 1
	h := shHook(bundle, "echo $$ > "+pidFile+"; exec sleep 1000")
	h.Timeout = &one
	//lint:ignore SA1019 runtimes must still run prestart hooks
	spec.Hooks = &specs.Hooks{Prestart: []specs.Hook{h}}
	writeSpec(t, bundle, spec)
	id := newID(t)
	forceDelete(t, rt, id)
	err := rt.Create(context.Background(), id, bundle, CreateOpts{})
	if err == nil || !strings.Contains(err.Error(), "timed out") {
		t.Fatalf("create with a hanging hook: %v, want a timeout", err)
	}
	pid := readPidFile(t, pidFile)
	if err := unix.Kill(pid, 0); err == nil {
		unix.Kill(pid, unix.SIGKILL)
		t.Errorf("the hook (pid %d) still runs after its timeout", pid)
	}
}

// TestPostHookFailuresWarn: failing poststart and poststop hooks are
// warnings; the hooks after them and the lifecycle go on.
func TestPostHookFailuresWarn(t *testing.T) {
	bundle, spec := newBundle(t, "true")
	rt := newRuntime(t)
	var warn bytes.Buffer
	rt.Warn = &warn
	log := filepath.Join(bundle, "ok.log")
	fail := specs.Hook{Path: filepath.Join(bundle, "rootfs/bin/false"), Args: []string{"false"}}
	spec.Hooks = &specs.Hooks{
		Poststart: []specs.Hook{fail, shHook(bundle, "echo poststart >> "+log)},
		Poststop:  []specs.Hook{fail, shHook(bundle, "echo poststop >> "+log)},
	}
	res := run(t, rt, bundle, spec)
	if res.code != 0 {
		t.Errorf("exit code %d, want 0", res.code)
	}
	if data, _ := os.ReadFile(log); string(data) != "poststart\npoststop\n" {
		t.Errorf("hooks after a failing one wrote %q, want both to run", data)
	}
	if got := strings.Count(warn.String(), "warning"); got != 2 {
		t.Errorf("warnings: %q, want one for poststart and one for poststop", warn.String())
	}
}

func readPidFile(t *testing.T, path string) int {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var pid int
	if err := json.Unmarshal(bytes.TrimSpace(data), &pid); err != nil {
		t.Fatalf("pid file %s: %v", path, err)
	}
	return pid
}
