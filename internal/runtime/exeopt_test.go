package runtime

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strata-containers/strata/internal/errdefs"
)

// TestCreateWithGivenExe runs a container from a protected executable made
// ahead of time (CreateOpts.Exe), which the container still sees as
// protected, and which Create leaves open for its caller.
func TestCreateWithGivenExe(t *testing.T) {
	bundle, spec := newBundle(t, "/proc/self/exe")
	spec.Process.Env = append(spec.Process.Env, exeProbeEnv+"=1")
	host, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	spec.Mounts = append(spec.Mounts, hostLibraries(t, host)...)
	writeSpec(t, bundle, spec)
	exe, err := SealedExe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { exe.Close() })
	rt, ctx, id := newRuntime(t), context.Background(), newID(t)
	forceDelete(t, rt, id)
	stdout := newOutput(t)
	if err := rt.Create(ctx, id, bundle, CreateOpts{Stdout: stdout.w, Exe: exe}); err != nil {
		t.Fatalf("create: %v", err)
	}
	stdout.collect()
	if err := rt.Start(ctx, id); err != nil {
		t.Fatalf("start: %v", err)
	}
	if code, err := rt.Wait(ctx, id); err != nil || code != 0 {
		t.Fatalf("wait: exit %d, %v:\n%s", code, err, stdout)
	}
	out := stdout.String()
	if !strings.Contains(out, "protected=true") {
		t.Errorf("the container's executable is not the given protected one:\n%s", out)
	}
	if strings.Contains(out, "write=<nil>") {
		t.Errorf("the container could write to its executable:\n%s", out)
	}
	if _, err := exe.Stat(); err != nil {
		t.Errorf("Create closed the caller's executable: %v", err)
	}
}

// TestCreateRefusesUnsealedExe keeps a caller from handing the container
// a writable executable.
func TestCreateRefusesUnsealedExe(t *testing.T) {
	bundle, spec := newBundle(t, "true")
	writeSpec(t, bundle, spec)
	exe, err := os.Open(filepath.Join(bundle, "rootfs", "bin", "busybox"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { exe.Close() })
	rt, id := newRuntime(t), newID(t)
	forceDelete(t, rt, id)
	err = rt.Create(context.Background(), id, bundle, CreateOpts{Exe: exe})
	if !errdefs.IsInvalid(err) {
		t.Fatalf("create with an unsealed executable: %v, want an invalid-argument error", err)
	}
	if _, err := os.Stat(filepath.Join(rt.root, id)); !os.IsNotExist(err) {
		t.Errorf("a refused create left state behind: %v", err)
	}
}
