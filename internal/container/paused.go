package container

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/strata-containers/strata/internal/atomicfile"
	"github.com/strata-containers/strata/internal/monitor"
)

// pausedName is the marker of a paused container: <id>/paused. state.json
// belongs to the container's monitor, which rewrites it whole when the
// workload ends, so "paused" is kept beside it rather than in it. The
// marker names the run it belongs to (the workload's pid and start time),
// so one left by an ended run, or by a crash between a thaw and its
// removal, never makes a later run read as paused.
const pausedName = "paused"

func runKey(st monitor.State) string {
	return strconv.Itoa(st.Pid) + " " + st.StartedAt.Format(time.RFC3339Nano)
}

// SetPaused records whether the current run of container id (st is its
// state) is paused. The caller holds the container's lock.
func (s *Store) SetPaused(id string, st monitor.State, paused bool) error {
	p := filepath.Join(s.dir(id), pausedName)
	if !paused {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("unpausing container %s: %w", id, err)
		}
		return nil
	}
	if err := atomicfile.WriteFile(p, []byte(runKey(st)), 0o600); err != nil {
		return fmt.Errorf("pausing container %s: %w", id, err)
	}
	return nil
}

// withPaused turns a running state into a paused one when the marker names
// this run.
func (s *Store) withPaused(id string, st monitor.State) monitor.State {
	if st.Status != monitor.StatusRunning {
		return st
	}
	data, err := os.ReadFile(filepath.Join(s.dir(id), pausedName))
	if err == nil && string(data) == runKey(st) {
		st.Status = monitor.StatusPaused
	}
	return st
}
