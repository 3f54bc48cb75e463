// Package monitor is the per-container monitor: a detached process (the
// small cmd/strata-monitor executable when it is installed next to strata,
// else strata re-executed; either way with the hidden verb Verb, in a
// session of its own)
// that creates and starts the container through the runtime and stays its
// parent for its whole life. It relays the container's stdout and stderr
// (or its terminal: it holds the pty master) into the json-file log and to
// the clients attached over its attach socket, feeds their input to the
// container's stdin, waits for the workload, records how it ended,
// restarts it as its restart policy says (restart.go), tears the container
// down (runtime state, cgroup, rootfs mount) and runs the cleanup it was
// given (--rm).
//
// The monitor imports only leaf packages (runtime, logs, mount,
// atomicfile, errdefs) so that the one long-lived strata process per
// container stays small: built alone as cmd/strata-monitor (3.4 MB
// stripped, against strata's 17 MB) it keeps a fraction of the pages
// resident, and Launch runs it with GOMAXPROCS=1 (one P: fewer threads and
// per-P caches for a process that mostly sleeps); a second after the
// start it gives back what the start used (memory.go). Its memory is
// measured by bench/run.sh.
//
// # Files
//
//	<bundle>/config.json     the OCI spec, written by the launcher
//	<bundle>/monitor.json    Config: what the monitor needs, written by Launch
//	                         (bundle files: WriteBundleFile, rename without fsync)
//	<bundle>/rootfs          the rootfs mount point
//	<bundle>/attach.sock     the attach socket while the monitor runs (attach.go
//	                         draws its protocol; Dial is the client)
//	<bundle>/stopped-by-user written by MarkStopped before a stop or kill: no
//	                         restart; removed by the next monitor
//	Config.StatePath         State, replaced atomically: by the launcher
//	                         until the monitor starts, by the monitor after
//	                         (without fsync for an --rm container: see writeState)
//
// # Protocol
//
// Launch and the monitor talk over a socketpair (the monitor's fd 3), one
// JSON message per line: "started" (the workload runs) or "error" (it could
// not be started: the runtime's message and class), later "exited" with
// the exit code. An attached launcher (foreground run) reads the log until
// "exited", then shuts its side down; the monitor runs the cleanup only
// after that, so the launcher never loses the end of the log to --rm. A
// launcher that removed the container itself (it has the stores open, a
// cleanup process would open them again) says "removed" before it shuts
// down, and the monitor skips the cleanup; one that dies first leaves it
// to the cleanup. The launcher may pass a sealed copy of the binary as
// fd 4 (Config.SealedExe), which the monitor hands to runtime.Create. A
// launcher that attaches (Config.WaitAttach) gets "listening" once the
// container is created and the attach socket is up; it connects and says
// "attached", and only then is the workload started, so no output is lost.
//
// Restarts: after an exit the monitor deletes the runtime's container, keeps
// the rootfs, records "restarting" with RestartCount, waits docker's
// back-off and runs the workload again; it says "exited" to its launcher only
// at the last end.
//
// Invariant: while State.Status is "running" or "restarting", State.MonitorPid and
// MonitorStart name a live monitor; a record whose monitor is gone was
// left by a monitor that was killed (or a reboot) and is no longer true.
package monitor

import (
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/strata-containers/strata/internal/atomicfile"
	"github.com/strata-containers/strata/internal/runtime"
)

// Status values, Docker's names.
const (
	StatusCreated    = "created"
	StatusRunning    = "running"
	StatusPaused     = "paused"
	StatusRestarting = "restarting"
	StatusExited     = "exited"
	StatusDead       = "dead"
)

// State is how a container's process is doing: Docker's State fields plus
// the monitor's identity.
type State struct {
	Status     string    `json:"Status"`
	Pid        int       `json:"Pid"`
	ExitCode   int       `json:"ExitCode"`
	Error      string    `json:"Error,omitempty"`
	StartedAt  time.Time `json:"StartedAt"`
	FinishedAt time.Time `json:"FinishedAt"`
	OOMKilled  bool      `json:"OOMKilled"`
	// RestartCount is how many times the monitor restarted the workload
	// (docker shows it beside State, as RestartCount).
	RestartCount int `json:"RestartCount,omitempty"`

	MonitorPid   int    `json:"MonitorPid,omitempty"`
	MonitorStart uint64 `json:"MonitorStart,omitempty"`
}

// ReadState reads the state at path.
func ReadState(path string) (State, error) {
	var st State
	data, err := os.ReadFile(path)
	if err != nil {
		return st, err
	}
	if err := json.Unmarshal(data, &st); err != nil {
		return st, fmt.Errorf("reading container state %s: %w", path, err)
	}
	return st, nil
}

// WriteState replaces the state at path atomically.
func WriteState(path string, st State) error {
	data, err := json.Marshal(st)
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(path, data, 0o600); err != nil {
		return fmt.Errorf("writing container state %s: %w", path, err)
	}
	return nil
}

// MonitorAlive reports whether the monitor the state names still runs (a
// reused pid does not count: its start time differs).
func (st State) MonitorAlive() bool {
	if st.MonitorPid <= 0 {
		return false
	}
	start, alive := runtime.ProcStart(st.MonitorPid)
	return alive && start == st.MonitorStart
}
