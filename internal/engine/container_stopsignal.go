package engine

import (
	"math"
	"time"

	"golang.org/x/sys/unix"

	"github.com/strata-containers/strata/internal/container"
)

// StopTimeoutUnset asks ContainerStop and ContainerRestart for the
// container's own --stop-timeout (docker's default 10 s without one).
const StopTimeoutUnset = time.Duration(math.MinInt64)

// stopPlan is how container c stops: its --stop-signal (SIGTERM without
// one) and the wait before SIGKILL, the given timeout unless unset.
func stopPlan(c container.Container, timeout time.Duration) (unix.Signal, time.Duration) {
	sig := unix.SIGTERM
	if c.Config.StopSignal != "" {
		if s, err := parseSignal(c.Config.StopSignal); err == nil {
			sig = s
		}
	}
	if timeout == StopTimeoutUnset {
		timeout = DefaultStopTimeout
		if c.Config.StopTimeout != nil {
			timeout = time.Duration(*c.Config.StopTimeout) * time.Second
		}
	}
	return sig, timeout
}
