package monitor

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/strata-containers/strata/internal/runtime"
)

func TestStateRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	want := State{Status: StatusExited, ExitCode: 137, StartedAt: time.Unix(1700000000, 0).UTC(), MonitorPid: 42}
	if err := WriteState(path, want); err != nil {
		t.Fatal(err)
	}
	got, err := ReadState(path)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func TestMonitorAlive(t *testing.T) {
	self := os.Getpid()
	start, alive := runtime.ProcStart(self)
	if !alive || start == 0 {
		t.Fatalf("runtime.ProcStart(self) = %d, %v", start, alive)
	}
	cases := []struct {
		name string
		st   State
		want bool
	}{
		{"live", State{MonitorPid: self, MonitorStart: start}, true},
		{"reused pid", State{MonitorPid: self, MonitorStart: start + 1}, false},
		{"no monitor", State{}, false},
		{"gone", State{MonitorPid: 1 << 30, MonitorStart: start}, false},
	}
	for _, c := range cases {
		if got := c.st.MonitorAlive(); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}
