package container

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/strata-containers/strata/internal/errdefs"
	"github.com/strata-containers/strata/internal/monitor"
	"github.com/strata-containers/strata/internal/runtime"
)

func newStore(t *testing.T) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "containers"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func create(t *testing.T, s *Store, name string) Record {
	t.Helper()
	c, err := s.Create(context.Background(), Record{Name: name, Created: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Commit(); err != nil {
		t.Fatal(err)
	}
	return c.Record()
}

func TestCreateAndResolve(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	web := create(t, s, "web")
	other := create(t, s, "")
	if len(web.ID) != 64 || other.Name == "" || !validName.MatchString(other.Name) {
		t.Fatalf("records: %+v %+v", web, other)
	}
	for _, ref := range []string{web.ID, "web", "/web", web.ID[:12]} {
		c, err := s.Get(ctx, ref)
		if err != nil || c.ID != web.ID || c.State.Status != monitor.StatusCreated {
			t.Errorf("Get(%q): %+v, %v", ref, c.Record, err)
		}
	}
	if c, err := s.Get(ctx, other.Name); err != nil || c.ID != other.ID {
		t.Errorf("random name: %v", err)
	}
	_, err := s.Get(ctx, "nope")
	if !errdefs.IsNotFound(err) || err.Error() != "No such container: nope" {
		t.Errorf("Get(nope): %v", err)
	}
	list, err := s.List(ctx)
	if err != nil || len(list) != 2 || list[0].ID != other.ID {
		t.Errorf("List: %d, %v", len(list), err)
	}
}

func TestNameConflict(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	web := create(t, s, "web")
	_, err := s.Create(ctx, Record{Name: "web"})
	want := `Conflict. The container name "/web" is already in use by container "` + web.ID +
		`". You have to remove (or rename) that container to be able to reuse that name.`
	if !errdefs.IsConflict(err) || err.Error() != want {
		t.Fatalf("got %v", err)
	}
	if list, _ := s.List(ctx); len(list) != 1 {
		t.Errorf("a failed create left %d containers", len(list))
	}
	if entries, _ := os.ReadDir(s.root); len(entries) != 2 { // names/ and web
		t.Errorf("a failed create left files: %v", entries)
	}
	if _, err := s.Create(ctx, Record{Name: "-bad"}); !errdefs.IsInvalid(err) {
		t.Errorf("bad name: %v", err)
	}
	if err := s.Remove(ctx, web.ID); err != nil {
		t.Fatal(err)
	}
	create(t, s, "web") // the name is free again
}

// TestSweepDeadCreator: an incomplete container is invisible, kept while
// its creator lives, and swept once its lock is free.
func TestSweepDeadCreator(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	c, err := s.Create(ctx, Record{Name: "half"})
	if err != nil {
		t.Fatal(err)
	}
	id := c.Record().ID
	if _, err := s.Get(ctx, id); !errdefs.IsNotFound(err) {
		t.Errorf("incomplete container visible: %v", err)
	}
	if swept, _ := s.Sweep(ctx); len(swept) != 0 {
		t.Fatalf("swept a live creation: %v", swept)
	}
	c.release() // what the kernel does when the creator dies
	swept, err := s.Sweep(ctx)
	if err != nil || len(swept) != 1 || swept[0] != id {
		t.Fatalf("Sweep: %v, %v", swept, err)
	}
	if _, err := os.Stat(s.dir(id)); !os.IsNotExist(err) {
		t.Errorf("directory left: %v", err)
	}
	create(t, s, "half") // the name went with it
}

// TestReconcile: a state its dead monitor left running reads as exited
// (255); Orphaned lists exactly those.
func TestReconcile(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	rec := create(t, s, "rc")
	self := os.Getpid()
	start, _ := runtime.ProcStart(self)
	cases := []struct {
		name       string
		st         monitor.State
		wantStatus string
		wantCode   int
	}{
		{"live monitor", monitor.State{Status: "running", MonitorPid: self, MonitorStart: start}, "running", 0},
		{"reused pid", monitor.State{Status: "running", MonitorPid: self, MonitorStart: start + 1}, "exited", 255},
		{"dead monitor", monitor.State{Status: "running", MonitorPid: 1 << 30}, "exited", 255},
		{"exited stays", monitor.State{Status: "exited", ExitCode: 3}, "exited", 3},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := s.SetState(rec.ID, c.st); err != nil {
				t.Fatal(err)
			}
			got, err := s.Get(ctx, rec.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.State.Status != c.wantStatus || got.State.ExitCode != c.wantCode {
				t.Errorf("got %s (%d), want %s (%d)", got.State.Status, got.State.ExitCode, c.wantStatus, c.wantCode)
			}
			// Orphaned, reading state files only, finds exactly the
			// containers that reconcile shows ended by a dead monitor.
			ids, err := s.Orphaned(ctx)
			if err != nil {
				t.Fatal(err)
			}
			want := c.st.Status != c.wantStatus
			if got := len(ids) == 1 && ids[0] == rec.ID; got != want || len(ids) > 1 {
				t.Errorf("Orphaned = %v, want it listed: %v", ids, want)
			}
		})
	}
}

// TestSweepTempDirs: a creation's temporary directory whose lock is free
// (its creator died before its rename) goes at the next sweep, however
// young; a young one without a lock file yet (a creator between its mkdir
// and its lock) stays, and so does one whose creator lives.
func TestSweepTempDirs(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	dead := filepath.Join(s.root, tmpPrefix+NewID())
	lock, err := s.lockedTemp(dead)
	if err != nil {
		t.Fatal(err)
	}
	lock.Unlock() // the creator died
	lock.Close()
	live := filepath.Join(s.root, tmpPrefix+NewID())
	held, err := s.lockedTemp(live)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	unlocked := filepath.Join(s.root, tmpPrefix+NewID())
	if err := os.Mkdir(unlocked, 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dead); !os.IsNotExist(err) {
		t.Errorf("a dead creator's temporary directory is left: %v", err)
	}
	for _, p := range []string{live, unlocked} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s swept: %v", filepath.Base(p), err)
		}
	}
}
