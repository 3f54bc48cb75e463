package container

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/strata-containers/strata/internal/monitor"
	"github.com/strata-containers/strata/internal/runtime"
)

// TestPausedMarker: a paused run reads paused, a later run of the same
// container (another pid and start) does not, and an ended run reads
// exited whatever the marker says.
func TestPausedMarker(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	rec := create(t, s, "paused")
	start, _ := runtime.ProcStart(os.Getpid())
	run := monitor.State{Status: monitor.StatusRunning, Pid: 42, StartedAt: time.Now().UTC(),
		MonitorPid: os.Getpid(), MonitorStart: start}
	status := func() string {
		t.Helper()
		c, err := s.Get(ctx, rec.ID)
		if err != nil {
			t.Fatal(err)
		}
		return c.State.Status
	}
	if err := s.SetState(rec.ID, run); err != nil {
		t.Fatal(err)
	}
	if err := s.SetPaused(rec.ID, run, true); err != nil {
		t.Fatal(err)
	}
	if got := status(); got != monitor.StatusPaused {
		t.Errorf("paused run reads %s", got)
	}
	next := run
	next.Pid, next.StartedAt = 43, run.StartedAt.Add(time.Second)
	if err := s.SetState(rec.ID, next); err != nil {
		t.Fatal(err)
	}
	if got := status(); got != monitor.StatusRunning {
		t.Errorf("a later run reads %s with the old run's marker", got)
	}
	if err := s.SetState(rec.ID, run); err != nil {
		t.Fatal(err)
	}
	if err := s.SetPaused(rec.ID, run, false); err != nil {
		t.Fatal(err)
	}
	if got := status(); got != monitor.StatusRunning {
		t.Errorf("unpaused run reads %s", got)
	}
	if err := s.SetPaused(rec.ID, run, true); err != nil {
		t.Fatal(err)
	}
	ended := run
	ended.Status = monitor.StatusExited
	if err := s.SetState(rec.ID, ended); err != nil {
		t.Fatal(err)
	}
	if got := status(); got != monitor.StatusExited {
		t.Errorf("ended run reads %s", got)
	}
}
