package cli

import (
	"os"
	"strconv"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// `strata runtime pause|resume`, runc's verbs: the state reads "paused"
// between them, and each refuses a container in the wrong state.
func TestRuntimeCLIPauseResume(t *testing.T) {
	o := newOCICLI(t)
	id := "pause-" + strconv.Itoa(os.Getpid())
	o.create(id, "sleep", "1000")
	if r := o.run(nil, "pause", id); r.code != 1 {
		t.Errorf("pause of a created container: exit %d, want 1", r.code)
	}
	o.ok("start", id)
	o.ok("pause", id)
	if st := o.state(id); st.Status != "paused" {
		t.Fatalf("status %q after pause", st.Status)
	}
	if r := o.run(nil, "pause", id); r.code != 1 {
		t.Errorf("second pause: exit %d, want 1", r.code)
	}
	o.ok("resume", id)
	if st := o.state(id); st.Status != specs.StateRunning {
		t.Fatalf("status %q after resume", st.Status)
	}
	if r := o.run(nil, "resume", id); r.code != 1 {
		t.Errorf("resume of a running container: exit %d, want 1", r.code)
	}
	o.ok("pause", id)
	o.ok("delete", "--force", id)
}
