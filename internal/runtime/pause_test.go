package runtime

import (
	"bufio"
	"context"
	"os"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/strata-containers/strata/internal/errdefs"
)

// TestPauseResume freezes a running container: it reads "paused", holds a
// signal until it is resumed, and a force delete still ends a paused one.
func TestPauseResume(t *testing.T) {
	ctx := context.Background()
	rt := newRuntime(t)
	bundle, spec := newBundle(t, "sh", "-c", `trap "exit 7" TERM; echo ready; while :; do sleep 10 & wait $!; done`)
	writeSpec(t, bundle, spec)
	id := newID(t)
	forceDelete(t, rt, id)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := rt.Create(ctx, id, bundle, CreateOpts{Stdout: w}); err != nil {
		t.Fatal(err)
	}
	w.Close()
	if err := rt.Resume(ctx, id); !errdefs.IsConflict(err) {
		t.Errorf("resume of a created container: %v, want conflict", err)
	}
	if err := rt.Start(ctx, id); err != nil {
		t.Fatal(err)
	}
	if line, err := bufio.NewReader(r).ReadString('\n'); line != "ready\n" {
		t.Fatalf("read %q, %v; want ready", line, err)
	}
	if err := rt.Pause(ctx, id); err != nil {
		t.Fatal(err)
	}
	st := mustState(t, rt, id, StatePaused)
	if err := rt.Pause(ctx, id); !errdefs.IsConflict(err) {
		t.Errorf("second pause: %v, want conflict", err)
	}
	if err := rt.Kill(ctx, id, unix.SIGTERM, false); err != nil {
		t.Fatalf("kill of a paused container: %v", err)
	}
	// Frozen, the shell cannot run its trap: it is still there, paused.
	if _, alive := ProcStart(st.Pid); !alive {
		t.Fatal("paused container died before it was resumed")
	}
	mustState(t, rt, id, StatePaused)
	if err := rt.Resume(ctx, id); err != nil {
		t.Fatal(err)
	}
	if code, err := rt.Wait(ctx, id); err != nil || code != 7 {
		t.Fatalf("exit %d, %v; want 7 (the trap, run after the resume)", code, err)
	}
	mustState(t, rt, id, specs.StateStopped)
	if err := rt.Resume(ctx, id); !errdefs.IsConflict(err) {
		t.Errorf("resume of a stopped container: %v, want conflict", err)
	}
}

func TestForceDeletePaused(t *testing.T) {
	ctx := context.Background()
	rt := newRuntime(t)
	bundle, spec := newBundle(t, "sh", "-c", "sleep 100 & sleep 100")
	writeSpec(t, bundle, spec)
	id := newID(t)
	forceDelete(t, rt, id)
	if err := rt.Create(ctx, id, bundle, CreateOpts{}); err != nil {
		t.Fatal(err)
	}
	if err := rt.Start(ctx, id); err != nil {
		t.Fatal(err)
	}
	if err := rt.Pause(ctx, id); err != nil {
		t.Fatal(err)
	}
	if err := rt.Delete(ctx, id, true); err != nil {
		t.Fatal(err)
	}
	assertNoCgroup(t, "/strata/"+id)
}
