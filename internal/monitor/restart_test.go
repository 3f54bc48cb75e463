package monitor

import (
	"testing"
	"time"
)

// TestRestartDelay checks the policies' decisions and docker's back-off:
// 100ms doubling, reset after a run of 10s, capped at a minute, and
// nothing after a stop by the user.
func TestRestartDelay(t *testing.T) {
	bundle := t.TempDir()
	m := &monitor{cfg: Config{Bundle: bundle}}
	short := time.Second
	for _, tc := range []struct {
		policy      RestartPolicy
		code, count int
		ran, prev   time.Duration
		want        time.Duration
		again       bool
	}{
		{RestartPolicy{Name: "no"}, 1, 0, short, 0, 0, false},
		{RestartPolicy{}, 1, 0, short, 0, 0, false},
		{RestartPolicy{Name: "always"}, 0, 0, short, 0, backoffStart, true},
		{RestartPolicy{Name: "always"}, 0, 3, short, 400 * time.Millisecond, 800 * time.Millisecond, true},
		{RestartPolicy{Name: "unless-stopped"}, 0, 9, short, 40 * time.Second, backoffMax, true},
		{RestartPolicy{Name: "always"}, 0, 9, backoffReset, 40 * time.Second, backoffStart, true},
		{RestartPolicy{Name: "on-failure"}, 0, 0, short, 0, 0, false},
		{RestartPolicy{Name: "on-failure"}, 3, 100, short, 0, backoffStart, true},
		{RestartPolicy{Name: "on-failure", MaximumRetryCount: 2}, 3, 1, short, 0, backoffStart, true},
		{RestartPolicy{Name: "on-failure", MaximumRetryCount: 2}, 3, 2, short, 0, 0, false},
	} {
		m.cfg.Restart = tc.policy
		got, again := m.restartDelay(tc.code, tc.count, tc.ran, tc.prev)
		if got != tc.want || again != tc.again {
			t.Errorf("%+v code %d count %d ran %v prev %v: %v, %v; want %v, %v",
				tc.policy, tc.code, tc.count, tc.ran, tc.prev, got, again, tc.want, tc.again)
		}
	}
	if err := MarkStopped(bundle); err != nil {
		t.Fatal(err)
	}
	m.cfg.Restart = RestartPolicy{Name: "always"}
	if _, again := m.restartDelay(0, 0, short, 0); again {
		t.Error("a container stopped by its user is restarted")
	}
	if m.sleepUnlessStopped(time.Hour) {
		t.Error("the back-off does not end at a stop")
	}
	if err := MarkStopped(bundle + "/gone"); err != nil {
		t.Errorf("MarkStopped of a removed bundle: %v", err)
	}
}

func TestCheckRestartPolicy(t *testing.T) {
	for _, p := range []RestartPolicy{{Name: "sometimes"}, {Name: "always", MaximumRetryCount: 1}, {Name: "on-failure", MaximumRetryCount: -1}} {
		if CheckRestartPolicy(p) == nil {
			t.Errorf("%+v accepted", p)
		}
	}
}
