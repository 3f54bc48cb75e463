package layer

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/strata-containers/strata/internal/errdefs"
)

// TestMergedTree registers a chain whose top layer deletes a file, a
// directory, and makes a directory opaque, and checks the mounted rootfs
// shows exactly the merged tree.
func TestMergedTree(t *testing.T) {
	forEachDriver(t, func(t *testing.T, s *Store) {
		l1 := register(t, s, "",
			dir("etc/"), file("etc/a", "a1"), file("etc/b", "b1"),
			dir("opq/"), file("opq/old1", "o1"),
			dir("gone/"), file("gone/x", "x"),
			entry{Name: "link", Type: tar.TypeSymlink, Linkname: "etc/a"})
		l2 := register(t, s, l1.ChainID,
			dir("etc/"), file("etc/a", "a2"), file("etc/c", "c2"),
			dir("opq/"), file("opq/old2", "o2"))
		l3 := register(t, s, l2.ChainID,
			dir("etc/"), file("etc/.wh.b", ""),
			dir("opq/"), file("opq/.wh..wh..opq", ""), file("opq/new", "n3"),
			file(".wh.gone", ""), file("top", "t3"))
		if l3.Parent != l2.ChainID || l2.Parent != l1.ChainID || l1.Parent != "" {
			t.Fatalf("parents: %v %v %v", l1, l2, l3)
		}
		rootfs := mountRW(t, s, "c1", l3.ChainID)
		want := map[string]string{
			"etc": "<dir>", "etc/a": "a2", "etc/c": "c2",
			"opq": "<dir>", "opq/new": "n3",
			"link": "-> etc/a", "top": "t3",
		}
		if d := diffString(tree(t, rootfs), want); d != "" {
			t.Errorf("merged rootfs differs:\n%s", d)
		}
		// Writes go to the writable layer, never to a committed one.
		if err := os.WriteFile(filepath.Join(rootfs, "etc/a"), []byte("rw"), 0o644); err != nil {
			t.Fatal(err)
		}
		if b, err := os.ReadFile(filepath.Join(s.RWDir("c1"), "etc/a")); err != nil || string(b) != "rw" {
			t.Errorf("rw layer etc/a = %q, %v", b, err)
		}
		for _, l := range []Info{l1, l2} {
			if b, _ := os.ReadFile(filepath.Join(s.Dir(l.ChainID), "etc/a")); string(b) == "rw" {
				t.Errorf("layer %s was written through the rootfs", l.ChainID)
			}
		}
	})
}

// TestSharedBase checks that two chains on one base share the base's
// directory and that registering it again reads nothing.
func TestSharedBase(t *testing.T) {
	forEachDriver(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		base := register(t, s, "", file("base", "b"))
		x := register(t, s, base.ChainID, file("x", "x"))
		y := register(t, s, base.ChainID, file("y", "y"))
		_, diffID := makeTar(t, file("base", "b"))
		again, err := s.Register(ctx, "", diffID, failReader{t})
		if err != nil || again != base {
			t.Fatalf("re-register base: %v, %v; want %v", again, err, base)
		}
		var files []os.FileInfo
		for _, top := range []Info{x, y} {
			chain, err := s.lowers(ctx, top.ChainID)
			if err != nil {
				t.Fatal(err)
			}
			bottom := chain[len(chain)-1]
			if s.Driver() == "vfs" {
				// A vfs layer is complete; its base is still the one layer.
				bottom = s.Dir(top.Parent)
			}
			fi, err := os.Stat(filepath.Join(bottom, "base"))
			if err != nil {
				t.Fatal(err)
			}
			files = append(files, fi)
		}
		if !os.SameFile(files[0], files[1]) {
			t.Error("the two chains do not share the base layer's files")
		}
		if got := names(t, s, "layers"); len(got) != 3 {
			t.Errorf("layers/ = %v, want 3 layers", got)
		}
	})
}

func TestWrongDiffID(t *testing.T) {
	forEachDriver(t, func(t *testing.T, s *Store) {
		b, _ := makeTar(t, file("f", "content"))
		_, err := s.Register(context.Background(), "", digest.FromString("something else"), bytes.NewReader(b))
		if !errdefs.IsInvalid(err) {
			t.Fatalf("got %v, want an invalid-argument error", err)
		}
		if got := names(t, s, "layers"); len(got) != 0 {
			t.Errorf("layers/ = %v after a failed register", got)
		}
		if got := names(t, s, "tmp"); len(got) != 0 {
			t.Errorf("tmp/ = %v after a failed register", got)
		}
	})
}

// TestTrailingData checks that bytes after the tar's end-of-archive blocks
// count for the diffID: Apply may stop before them.
func TestTrailingData(t *testing.T) {
	forEachDriver(t, func(t *testing.T, s *Store) {
		b, _ := makeTar(t, file("f", "content"))
		b = append(b, make([]byte, 10240)...)
		info, err := s.Register(context.Background(), "", digest.FromBytes(b), bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if info.DiffID != digest.FromBytes(b) || info.Size != int64(len("content")) {
			t.Errorf("info = %+v", info)
		}
	})
}

// countingReader counts the readers that were read at all.
type countingReader struct {
	r    *bytes.Reader
	used *atomic.Int32
	once sync.Once
}

func (c *countingReader) Read(p []byte) (int, error) {
	c.once.Do(func() { c.used.Add(1) })
	return c.r.Read(p)
}

func TestConcurrentRegister(t *testing.T) {
	forEachDriver(t, func(t *testing.T, s *Store) {
		b, diffID := makeTar(t, dir("d/"), file("d/f", "same layer"))
		var used atomic.Int32
		infos := make([]Info, 8)
		errs := make([]error, 8)
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Go(func() {
				r := &countingReader{r: bytes.NewReader(b), used: &used}
				infos[i], errs[i] = s.Register(context.Background(), "", diffID, r)
			})
		}
		wg.Wait()
		for i := range 8 {
			if errs[i] != nil || infos[i] != infos[0] {
				t.Errorf("register %d: %+v, %v", i, infos[i], errs[i])
			}
		}
		if got := names(t, s, "layers"); len(got) != 1 {
			t.Errorf("layers/ = %v, want one layer", got)
		}
		if got := names(t, s, "tmp"); len(got) != 0 {
			t.Errorf("tmp/ = %v, want empty", got)
		}
		if n := used.Load(); n != 1 {
			t.Errorf("%d streams were read, want 1", n)
		}
	})
}

// TestUnknownDiffID registers without a diffID: the store computes it.
func TestUnknownDiffID(t *testing.T) {
	forEachDriver(t, func(t *testing.T, s *Store) {
		b, diffID := makeTar(t, file("f", "x"))
		info, err := s.Register(context.Background(), "", "", bytes.NewReader(b))
		if err != nil || info.DiffID != diffID || info.ChainID != diffID {
			t.Fatalf("got %+v, %v; want diffID %s", info, err, diffID)
		}
		got, err := s.Get(context.Background(), diffID)
		if err != nil || got != info {
			t.Errorf("Get = %+v, %v", got, err)
		}
	})
}

func TestRemove(t *testing.T) {
	forEachDriver(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		base := register(t, s, "", file("a", "a"))
		top := register(t, s, base.ChainID, file("b", "b"))
		if _, err := s.CreateRW(ctx, "c", top.ChainID); err != nil {
			t.Fatal(err)
		}
		if err := s.Remove(ctx, base.ChainID); !errdefs.IsConflict(err) {
			t.Errorf("remove a parent: %v, want conflict", err)
		}
		if err := s.Remove(ctx, top.ChainID); !errdefs.IsConflict(err) {
			t.Errorf("remove a layer a container uses: %v, want conflict", err)
		}
		if err := s.RemoveRW(ctx, "c"); err != nil {
			t.Fatal(err)
		}
		for _, l := range []Info{top, base} {
			if err := s.Remove(ctx, l.ChainID); err != nil {
				t.Fatalf("remove %s: %v", l.ChainID, err)
			}
			if _, err := s.Get(ctx, l.ChainID); !errdefs.IsNotFound(err) {
				t.Errorf("Get after Remove: %v", err)
			}
		}
		if err := s.Remove(ctx, base.ChainID); !errdefs.IsNotFound(err) {
			t.Errorf("remove twice: %v, want not found", err)
		}
		for _, sub := range []string{"layers", "tmp", "rw"} {
			if got := names(t, s, sub); len(got) != 0 {
				t.Errorf("%s/ = %v, want empty", sub, got)
			}
		}
	})
}

func TestListAndSize(t *testing.T) {
	forEachDriver(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		base := register(t, s, "", file("a", "12345"), entry{Name: "h", Type: tar.TypeLink, Linkname: "a"})
		top := register(t, s, base.ChainID, file("b", "123"))
		if base.Size != 5 {
			t.Errorf("base size %d, want 5 (hardlinks count once)", base.Size)
		}
		wantTop := int64(3)
		if s.Driver() == "vfs" {
			wantTop = 8 // a vfs layer is a full copy
		}
		if top.Size != wantTop {
			t.Errorf("top size %d, want %d", top.Size, wantTop)
		}
		infos, err := s.List(ctx)
		if err != nil || len(infos) != 2 {
			t.Fatalf("List = %v, %v", infos, err)
		}
		for _, info := range infos {
			if info != base && info != top {
				t.Errorf("List has %+v", info)
			}
		}
	})
}

// TestRegisterBeforeParent: vfs copies the parent, so it must exist; overlay
// unpacks a layer before its parent arrives.
func TestRegisterBeforeParent(t *testing.T) {
	forEachDriver(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		b1, d1 := makeTar(t, file("a", "a"))
		parent := ChainID("", d1)
		b2, d2 := makeTar(t, file("b", "b"))
		_, err := s.Register(ctx, parent, d2, bytes.NewReader(b2))
		if !s.ConcurrentRegister() {
			if !errdefs.IsNotFound(err) {
				t.Fatalf("vfs register without parent: %v, want not found", err)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		top := ChainID(parent, d2)
		if _, err := s.CreateRW(ctx, "early", top); !errdefs.IsNotFound(err) {
			t.Errorf("CreateRW with a missing parent: %v, want not found", err)
		}
		if _, err := s.Register(ctx, "", d1, bytes.NewReader(b1)); err != nil {
			t.Fatal(err)
		}
		rootfs := mountRW(t, s, "late", top)
		if d := diffString(tree(t, rootfs), map[string]string{"a": "a", "b": "b"}); d != "" {
			t.Errorf("rootfs differs:\n%s", d)
		}
	})
}

// TestDeepChain mounts an image of 120 layers, deeper than mount(2)'s page
// of options allows with these paths.
func TestDeepChain(t *testing.T) {
	s := openStore(t, "overlay")
	var parent digest.Digest
	for i := range 120 {
		parent = register(t, s, parent, file(fmt.Sprintf("l%03d", i), fmt.Sprint(i))).ChainID
	}
	rootfs := mountRW(t, s, "deep", parent)
	ms, err := s.Mounts(context.Background(), "deep")
	if err != nil || len(ms) != 1 {
		t.Fatalf("Mounts = %v, %v", ms, err)
	}
	if n := len(ms[0].Options[0]); n <= 4096 {
		t.Errorf("lowerdir option is %d bytes; the test wants more than a page", n)
	}
	for _, name := range []string{"l000", "l119"} {
		if _, err := os.Stat(filepath.Join(rootfs, name)); err != nil {
			t.Error(err)
		}
	}
	if n := len(tree(t, rootfs)); n != 120 {
		t.Errorf("rootfs has %d entries, want 120", n)
	}
}
