package layer

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/strata-containers/strata/internal/errdefs"
	"github.com/strata-containers/strata/internal/mount"
)

// TestRWLifecycle creates, mounts, writes, unmounts and removes a writable
// layer with no parent, and checks nothing is left behind.
func TestRWLifecycle(t *testing.T) {
	forEachDriver(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		ms, err := s.CreateRW(ctx, "c1", "")
		if err != nil {
			t.Fatal(err)
		}
		again, err := s.Mounts(ctx, "c1")
		if err != nil || !reflect.DeepEqual(again, ms) {
			t.Errorf("Mounts = %v, %v; want what CreateRW returned, %v", again, err, ms)
		}
		info, err := s.GetRW(ctx, "c1")
		if err != nil || info != (RWInfo{ID: "c1"}) {
			t.Errorf("GetRW = %+v, %v", info, err)
		}
		target := filepath.Join(t.TempDir(), "rootfs")
		if err := os.Mkdir(target, 0o755); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { mount.UnmountAll(target) })
		if err := mount.All(ms, target); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(target, "hello"), []byte("hi"), 0o644); err != nil {
			t.Fatal(err)
		}
		if b, err := os.ReadFile(filepath.Join(s.RWDir("c1"), "hello")); err != nil || string(b) != "hi" {
			t.Errorf("RWDir/hello = %q, %v", b, err)
		}
		if err := mount.UnmountAll(target); err != nil {
			t.Fatal(err)
		}
		if err := s.RemoveRW(ctx, "c1"); err != nil {
			t.Fatal(err)
		}
		for _, sub := range []string{"rw", "tmp"} {
			if got := names(t, s, sub); len(got) != 0 {
				t.Errorf("%s/ = %v after RemoveRW", sub, got)
			}
		}
		if _, err := s.GetRW(ctx, "c1"); !errdefs.IsNotFound(err) {
			t.Errorf("GetRW after RemoveRW: %v", err)
		}
		if err := s.RemoveRW(ctx, "c1"); !errdefs.IsNotFound(err) {
			t.Errorf("RemoveRW twice: %v", err)
		}
	})
}

func TestRWErrors(t *testing.T) {
	forEachDriver(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		if _, err := s.CreateRW(ctx, "dup", ""); err != nil {
			t.Fatal(err)
		}
		missing := digest.FromString("no such layer")
		tests := []struct {
			name   string
			id     string
			parent digest.Digest
			class  func(error) bool
		}{
			{"duplicate", "dup", "", errdefs.IsConflict},
			{"missing parent", "c", missing, errdefs.IsNotFound},
			{"malformed parent", "c", "sha256:zz", errdefs.IsInvalid},
			{"empty id", "", "", errdefs.IsInvalid},
			{"slash", "a/b", "", errdefs.IsInvalid},
			{"dot-dot", "..", "", errdefs.IsInvalid},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if _, err := s.CreateRW(ctx, tt.id, tt.parent); !tt.class(err) {
					t.Errorf("CreateRW(%q, %q) = %v", tt.id, tt.parent, err)
				}
			})
		}
		rws, err := s.ListRW(ctx)
		if err != nil || len(rws) != 1 || rws[0].ID != "dup" {
			t.Errorf("ListRW = %v, %v", rws, err)
		}
		if got := names(t, s, "tmp"); len(got) != 0 {
			t.Errorf("tmp/ = %v after failed creates", got)
		}
		if _, err := s.Get(ctx, missing); !errdefs.IsNotFound(err) {
			t.Errorf("Get(missing) = %v", err)
		}
		if err := s.Remove(ctx, missing); !errdefs.IsNotFound(err) {
			t.Errorf("Remove(missing) = %v", err)
		}
		if s.Dir("../../etc") != "" || s.RWDir("../x") != "" {
			t.Error("Dir/RWDir built a path from a malformed name")
		}
	})
}

func TestChainID(t *testing.T) {
	a := digest.FromString("a")
	b := digest.FromString("b")
	if got := ChainID("", a); got != a {
		t.Errorf("base chain ID %s, want the diffID", got)
	}
	want := digest.FromString(a.String() + " " + b.String())
	if got := ChainID(a, b); got != want {
		t.Errorf("ChainID = %s, want %s", got, want)
	}
}
