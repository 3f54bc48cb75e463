package volume

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/strata-containers/strata/internal/errdefs"
)

func openStore(t *testing.T, root string) *Store {
	t.Helper()
	s, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestCreateConcurrentSameName: many creators of one name, each with its
// own store (its own lock file description, as separate processes have),
// all succeed and one volume exists, with no temporary directory left.
func TestCreateConcurrentSameName(t *testing.T) {
	root := t.TempDir()
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make([]error, 20)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := Open(root)
			if err != nil {
				errs[i] = err
				return
			}
			defer s.Close()
			_, errs[i] = s.Create(ctx, CreateOptions{Name: "shared", Labels: map[string]string{"n": "x"}})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("creator %d: %v", i, err)
		}
	}
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if len(names) != 2 || names[0] != "shared" || names[1] != "volumes.lock" {
		t.Fatalf("store holds %v, want [shared volumes.lock]", names)
	}
}

func TestCreateGetRemove(t *testing.T) {
	s := openStore(t, t.TempDir())
	ctx := context.Background()
	v, err := s.Create(ctx, CreateOptions{Name: "data", Labels: map[string]string{"a": "b"}})
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(v.Mountpoint); err != nil || !fi.IsDir() {
		t.Fatalf("mountpoint %s: %v", v.Mountpoint, err)
	}
	got, err := s.Get(ctx, "data")
	if err != nil || got.Labels["a"] != "b" || got.Driver != DriverLocal || got.CreatedAt.IsZero() {
		t.Fatalf("Get = %+v, %v", got, err)
	}
	users := func(string) ([]string, error) { return []string{"c1"}, nil }
	err = s.Remove(ctx, "data", false, users)
	if !errdefs.IsConflict(err) || err.Error() != "remove data: volume is in use - [c1]" {
		t.Fatalf("Remove of a used volume: %v", err)
	}
	none := func(string) ([]string, error) { return nil, nil }
	if err := s.Remove(ctx, "data", false, none); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "data"); !errdefs.IsNotFound(err) {
		t.Fatalf("Get after Remove: %v", err)
	}
	if err := s.Remove(ctx, "data", false, none); !errdefs.IsNotFound(err) {
		t.Fatalf("Remove of a missing volume: %v", err)
	}
	if err := s.Remove(ctx, "data", true, none); err != nil {
		t.Fatalf("forced Remove of a missing volume: %v", err)
	}
}

func TestCreateRejects(t *testing.T) {
	s := openStore(t, t.TempDir())
	ctx := context.Background()
	for _, o := range []CreateOptions{
		{Name: "a/b"}, {Name: "x"}, {Name: "ok", Driver: "nfs"},
		{Name: "ok", Options: map[string]string{"bogus": "1"}},
		{Name: "ok", Options: map[string]string{"type": "tmpfs"}},
	} {
		if _, err := s.Create(ctx, o); err == nil {
			t.Errorf("Create(%+v) succeeded", o)
		}
	}
	v, err := s.Create(ctx, CreateOptions{})
	if err != nil || len(v.Name) != 64 {
		t.Fatalf("anonymous Create = %+v, %v", v, err)
	}
}

// TestSweepLeftovers: a creator killed before its rename leaves a
// temporary directory, which the next Open removes; no half volume is
// ever listed.
func TestSweepLeftovers(t *testing.T) {
	root := t.TempDir()
	s := openStore(t, root)
	half := filepath.Join(root, ".tmp-half-123")
	if err := os.MkdirAll(filepath.Join(half, "_data"), 0o755); err != nil {
		t.Fatal(err)
	}
	if vols, err := s.List(context.Background()); err != nil || len(vols) != 0 {
		t.Fatalf("List = %v, %v", vols, err)
	}
	openStore(t, root)
	if _, err := os.Stat(half); !os.IsNotExist(err) {
		t.Fatalf("leftover not swept: %v", err)
	}
}

func TestPrune(t *testing.T) {
	s := openStore(t, t.TempDir())
	ctx := context.Background()
	for _, n := range []string{"keep", "used", "gone"} {
		if _, err := s.Create(ctx, CreateOptions{Name: n}); err != nil {
			t.Fatal(err)
		}
	}
	inUse := func(n string) ([]string, error) {
		if n == "used" {
			return []string{"c"}, nil
		}
		return nil, nil
	}
	removed, err := s.Prune(ctx, func(v Volume) bool { return v.Name == "keep" }, inUse)
	if err != nil || len(removed) != 1 || removed[0].Name != "gone" {
		t.Fatalf("Prune = %v, %v", removed, err)
	}
}
