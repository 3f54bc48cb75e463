package layer

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/strata-containers/strata/internal/errdefs"
	"github.com/strata-containers/strata/internal/mount"
)

func TestOpenDriverChoice(t *testing.T) {
	requireRoot(t)
	ctx := context.Background()
	if _, err := Open(ctx, Options{Root: t.TempDir(), Driver: "zfs"}); !errdefs.IsInvalid(err) {
		t.Errorf("unknown driver: %v, want invalid", err)
	}
	if _, err := Open(ctx, Options{}); !errdefs.IsInvalid(err) {
		t.Errorf("no root: %v, want invalid", err)
	}

	root := t.TempDir()
	s, err := Open(ctx, Options{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if s.Driver() != "overlay" {
		t.Skipf("needs overlay: the automatic choice was %s", s.Driver())
	}
	probe := filepath.Join(root, "overlay", probeFile)
	before, err := os.Stat(probe)
	if err != nil {
		t.Fatalf("probe result not cached: %v", err)
	}
	// A second process trusts the cache: it neither probes nor rewrites it.
	s, err = Open(ctx, Options{Root: root})
	if err != nil || s.Driver() != "overlay" {
		t.Fatalf("reopen: %v, %v", s, err)
	}
	s.Close()
	after, _ := os.Stat(probe)
	if !os.SameFile(before, after) {
		t.Error("the probe ran again despite its cached result")
	}
	if got := names(t, s, "tmp"); len(got) != 0 {
		t.Errorf("probe left %v in tmp/", got)
	}

	// A store that holds vfs layers keeps its driver.
	vroot := t.TempDir()
	openStoreAt(t, vroot, "vfs")
	if s := openStoreAt(t, vroot, ""); s.Driver() != "vfs" {
		t.Errorf("automatic choice over an existing vfs store: %s", s.Driver())
	}
}

func openStoreAt(t *testing.T, root, driver string) *Store {
	t.Helper()
	s, err := Open(context.Background(), Options{Root: root, Driver: driver})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestOpenOverlayUnsupported puts the store on an overlay mount, which
// overlay refuses as an upper layer (as in docker-in-docker).
func TestOpenOverlayUnsupported(t *testing.T) {
	requireRoot(t)
	base := t.TempDir()
	for _, d := range []string{"l", "u", "w", "m"} {
		if err := os.Mkdir(filepath.Join(base, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	m := mount.Mount{Type: "overlay", Source: "overlay", Options: []string{
		"lowerdir=" + filepath.Join(base, "l"), "upperdir=" + filepath.Join(base, "u"), "workdir=" + filepath.Join(base, "w"),
	}}
	root := filepath.Join(base, "m")
	if err := m.Mount(root); err != nil {
		t.Skipf("needs overlay: %v", err)
	}
	t.Cleanup(func() { mount.UnmountAll(root) })

	ctx := context.Background()
	_, err := Open(ctx, Options{Root: root, Driver: "overlay"})
	if !errdefs.IsUnavailable(err) {
		t.Fatalf("overlay on overlay: %v, want unavailable", err)
	}
	t.Log(err)
	s := openStoreAt(t, root, "")
	if s.Driver() != "vfs" {
		t.Errorf("automatic choice on overlay: %s, want vfs", s.Driver())
	}
	if _, err := os.Stat(filepath.Join(root, "overlay", probeFile)); err == nil {
		t.Error("a failed probe was cached as a success")
	}
}

// TestSweep leaves the kinds of debris a dead owner can leave in tmp/ and
// checks that Open removes them and nothing a live owner holds.
func TestSweep(t *testing.T) {
	s := openStore(t, "vfs")
	tmp := filepath.Join(s.root, "tmp")
	dead := filepath.Join(tmp, "dead")
	if err := os.MkdirAll(filepath.Join(dead, "diff", "d"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{dead + lockSuffix, filepath.Join(tmp, "orphan"+lockSuffix)} {
		if err := os.WriteFile(f, nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(tmp, "nolock"), 0o755); err != nil {
		t.Fatal(err)
	}
	live, err := newTmp(tmp)
	if err != nil {
		t.Fatal(err)
	}
	defer live.release()
	if err := os.Mkdir(live.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	s2 := openStoreAt(t, filepath.Dir(s.root), "vfs")
	want := []string{filepath.Base(live.dir), filepath.Base(live.dir) + lockSuffix}
	if got := names(t, s2, "tmp"); !slices.Equal(got, want) {
		t.Errorf("tmp/ after sweep = %v, want only the live entry %v", got, want)
	}
}

// TestSweepSparesLiveWork opens the store (which sweeps) over and over
// while layers are being registered: no live unpack may be swept away.
func TestSweepSparesLiveWork(t *testing.T) {
	forEachDriver(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		root := filepath.Dir(s.root)
		var wg sync.WaitGroup
		for i := range 4 {
			wg.Go(func() {
				for j := range 5 {
					b, diffID := makeTar(t, file(fmt.Sprintf("f%d-%d", i, j), "x"))
					if _, err := s.Register(ctx, "", diffID, bytes.NewReader(b)); err != nil {
						t.Errorf("register during sweeps: %v", err)
					}
				}
			})
		}
		wg.Go(func() {
			for range 20 {
				s2, err := Open(ctx, Options{Root: root, Driver: s.Driver()})
				if err != nil {
					t.Errorf("open: %v", err)
					return
				}
				s2.Close()
			}
		})
		wg.Wait()
		if got := names(t, s, "layers"); len(got) != 20 {
			t.Errorf("%d layers committed, want 20", len(got))
		}
	})
}
