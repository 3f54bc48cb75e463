package monitor

import (
	"errors"
	"os"
	"path/filepath"
	"time"

	"github.com/strata-containers/strata/internal/errdefs"
)

// RestartPolicy is docker's --restart: Name is "no" (or ""), "always",
// "unless-stopped" or "on-failure", the last with an optional retry limit
// (0: no limit).
type RestartPolicy struct {
	Name              string `json:"Name"`
	MaximumRetryCount int    `json:"MaximumRetryCount"`
}

// CheckRestartPolicy checks a policy's name and count, with docker's
// wording.
func CheckRestartPolicy(p RestartPolicy) error {
	switch p.Name {
	case "", "no", "always", "unless-stopped":
		if p.MaximumRetryCount != 0 {
			return errdefs.Invalid("maximum retry count cannot be used with restart policy '%s'", p.Name)
		}
	case "on-failure":
		if p.MaximumRetryCount < 0 {
			return errdefs.Invalid("invalid restart policy: maximum retry count cannot be negative")
		}
	default:
		return errdefs.Invalid("invalid restart policy '%s'", p.Name)
	}
	return nil
}

// stoppedMark is the file that says a user stopped or killed the
// container: its monitor must not restart it. It lives in the bundle, so
// the next start (which writes a new monitor.json) begins without it.
const stoppedMark = "stopped-by-user"

// MarkStopped records, before the container is signalled, that its user
// stops it, which keeps the restart policy from undoing the stop (as
// docker does until the next start).
func MarkStopped(bundle string) error {
	err := os.WriteFile(filepath.Join(bundle, stoppedMark), nil, 0o600)
	if errors.Is(err, os.ErrNotExist) {
		return nil // no bundle: nothing runs that could restart
	}
	return err
}

func (m *monitor) stoppedByUser() bool {
	_, err := os.Stat(filepath.Join(m.cfg.Bundle, stoppedMark))
	return err == nil
}

// Docker's back-off between restarts: 100ms, doubling after every
// restart, back to the start when a run lasted 10s, at most a minute.
const (
	backoffStart = 100 * time.Millisecond
	backoffMax   = time.Minute
	backoffReset = 10 * time.Second
)

// restartDelay decides whether the run that ended with code after ran is
// restarted, and after how long; delay is the previous back-off.
func (m *monitor) restartDelay(code, count int, ran, delay time.Duration) (time.Duration, bool) {
	p := m.cfg.Restart
	switch p.Name {
	case "always", "unless-stopped":
	case "on-failure":
		if code == 0 || (p.MaximumRetryCount > 0 && count >= p.MaximumRetryCount) {
			return 0, false
		}
	default:
		return 0, false
	}
	if m.stoppedByUser() {
		return 0, false
	}
	switch {
	case delay == 0 || ran >= backoffReset:
		return backoffStart, true
	case delay*2 > backoffMax:
		return backoffMax, true
	}
	return delay * 2, true
}

// sleepUnlessStopped waits d, and reports false as soon as the user
// stops the container meanwhile (which `rm -f` of a restarting container
// does): the mark is polled, at most every 100ms, only while restarting.
func (m *monitor) sleepUnlessStopped(d time.Duration) bool {
	deadline := time.Now().Add(d)
	for {
		if m.stoppedByUser() {
			return false
		}
		left := time.Until(deadline)
		if left <= 0 {
			return true
		}
		time.Sleep(min(left, 100*time.Millisecond))
	}
}
