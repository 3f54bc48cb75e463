package image

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/strata-containers/strata/internal/errdefs"
	"github.com/strata-containers/strata/internal/reference"
)

func newStore(t *testing.T) *Store {
	t.Helper()
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// idFrom makes an image ID whose hex starts with prefix.
func idFrom(prefix, seed string) digest.Digest {
	hex := prefix + digest.FromString(seed).Encoded()[len(prefix):]
	return digest.NewDigestFromEncoded(digest.SHA256, hex)
}

// putImage stores a record for id whose manifest digest derives from id.
func putImage(t *testing.T, s *Store, id digest.Digest, created time.Time) Record {
	t.Helper()
	rec := Record{
		ID:       id,
		Manifest: ocispec.Descriptor{MediaType: ociManifest, Digest: digest.FromString("manifest of " + string(id)), Size: 100},
		Created:  created,
	}
	if err := s.Put(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
	return rec
}

func mustParse(t testing.TB, s string) reference.Named {
	t.Helper()
	r, err := reference.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func tag(t *testing.T, s *Store, ref string, id digest.Digest) {
	t.Helper()
	if err := s.Tag(context.Background(), mustParse(t, ref), id); err != nil {
		t.Fatalf("Tag(%s, %s): %v", ref, id, err)
	}
}

func TestPutGet(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	id := idFrom("", "one")
	rec := putImage(t, s, id, time.Time{})
	img, err := s.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if img.ID != id || img.Manifest.Digest != rec.Manifest.Digest || img.Created.IsZero() {
		t.Fatalf("Get = %+v, want %+v with Created set", img.Record, rec)
	}
	if len(img.RepoTags) != 0 || len(img.RepoDigests) != 0 {
		t.Errorf("untagged image has references: %v %v", img.RepoTags, img.RepoDigests)
	}
	// Replacing keeps the creation time the caller left zero.
	rec.Parent = idFrom("", "parent")
	if err := s.Put(ctx, rec); err != nil {
		t.Fatal(err)
	}
	again, err := s.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if !again.Created.Equal(img.Created) || again.Parent != rec.Parent {
		t.Errorf("after replace: Created %v (was %v), Parent %s", again.Created, img.Created, again.Parent)
	}
	if _, err := s.Get(ctx, idFrom("", "absent")); !errdefs.IsNotFound(err) {
		t.Errorf("Get of an absent image: %v, want errdefs.ErrNotFound", err)
	}
}

func TestRejectsBadIDs(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	ref := mustParse(t, "busybox")
	for _, id := range []digest.Digest{"", "sha256:../../etc/passwd", "sha256:ABC", "md5:d41d8cd98f00b204e9800998ecf8427e"} {
		checks := map[string]error{"Put": s.Put(ctx, Record{ID: id}), "Delete": s.Delete(ctx, id), "Tag": s.Tag(ctx, ref, id)}
		_, checks["Get"] = s.Get(ctx, id)
		for name, err := range checks {
			if !errdefs.IsInvalid(err) {
				t.Errorf("%s(%q): %v, want errdefs.ErrInvalid", name, id, err)
			}
		}
	}
	if got, _ := os.ReadDir(s.imageDir()); len(got) != 0 {
		t.Errorf("files written for bad IDs: %v", got)
	}
}

func TestTagUntag(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	a := putImage(t, s, idFrom("", "a"), time.Time{}).ID
	b := putImage(t, s, idFrom("", "b"), time.Time{}).ID
	pinned := "localhost:5000/x/y@" + string(digest.FromString("m"))

	tag(t, s, "busybox", a) // a bare name is tagged latest
	tag(t, s, "localhost:5000/x/y:1", a)
	tag(t, s, pinned, a)
	img, err := s.Get(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"busybox:latest", "localhost:5000/x/y:1"}; !slices.Equal(img.RepoTags, want) {
		t.Errorf("RepoTags = %v, want %v", img.RepoTags, want)
	}
	if want := []string{pinned}; !slices.Equal(img.RepoDigests, want) {
		t.Errorf("RepoDigests = %v, want %v", img.RepoDigests, want)
	}
	if img.LastTagTime.IsZero() {
		t.Error("LastTagTime not set by Tag")
	}

	// Moving a tag takes it from the other image.
	tag(t, s, "busybox:latest", b)
	if img, _ := s.Get(ctx, a); slices.Contains(img.RepoTags, "busybox:latest") {
		t.Errorf("busybox:latest still on the old image: %v", img.RepoTags)
	}
	if img, _ := s.Get(ctx, b); !slices.Equal(img.RepoTags, []string{"busybox:latest"}) {
		t.Errorf("image b RepoTags = %v, want [busybox:latest]", img.RepoTags)
	}

	if err := s.Tag(ctx, mustParse(t, "ghost:1"), idFrom("", "absent")); !errdefs.IsNotFound(err) {
		t.Errorf("Tag to an absent image: %v, want errdefs.ErrNotFound", err)
	}
	if _, err := s.Resolve(ctx, "ghost:1"); !errdefs.IsNotFound(err) {
		t.Errorf("a failed Tag left a reference: %v", err)
	}

	if id, err := s.Untag(ctx, mustParse(t, "localhost:5000/x/y:1")); err != nil || id != a {
		t.Errorf("Untag = %s, %v; want %s", id, err, a)
	}
	_, err = s.Untag(ctx, mustParse(t, "localhost:5000/x/y:1"))
	if !errdefs.IsNotFound(err) || err.Error() != "No such image: localhost:5000/x/y:1" {
		t.Errorf("second Untag: %v, want errdefs.ErrNotFound \"No such image: localhost:5000/x/y:1\"", err)
	}
}

func TestDelete(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	a := putImage(t, s, idFrom("", "a"), time.Time{}).ID
	b := putImage(t, s, idFrom("", "b"), time.Time{}).ID
	tag(t, s, "a:1", a)
	tag(t, s, "a:2", a)
	tag(t, s, "b:1", b)
	if err := s.Delete(ctx, a); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.recordPath(a)); !os.IsNotExist(err) {
		t.Errorf("record still on disk: %v", err)
	}
	for _, ref := range []string{"a:1", "a:2"} {
		if _, err := s.Untag(ctx, mustParse(t, ref)); !errdefs.IsNotFound(err) {
			t.Errorf("reference %s survived Delete: %v", ref, err)
		}
	}
	if img, err := s.Resolve(ctx, "b:1"); err != nil || img.ID != b {
		t.Errorf("Resolve(b:1) after deleting a = %s, %v", img.ID, err)
	}
	if err := s.Delete(ctx, a); !errdefs.IsNotFound(err) {
		t.Errorf("second Delete: %v, want errdefs.ErrNotFound", err)
	}
}

func TestList(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	old := putImage(t, s, idFrom("", "old"), base).ID
	newest := putImage(t, s, idFrom("", "newest"), base.Add(2*time.Hour)).ID
	mid := putImage(t, s, idFrom("", "mid"), base.Add(time.Hour)).ID
	tag(t, s, "zeta:1", mid)
	tag(t, s, "alpha:1", mid)
	if err := os.WriteFile(filepath.Join(s.imageDir(), "notes.txt"), []byte("not a record"), 0o600); err != nil {
		t.Fatal(err)
	}
	imgs, err := s.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []digest.Digest
	for _, img := range imgs {
		ids = append(ids, img.ID)
	}
	if want := []digest.Digest{newest, mid, old}; !slices.Equal(ids, want) {
		t.Fatalf("List order %v, want %v", ids, want)
	}
	if want := []string{"alpha:1", "zeta:1"}; !slices.Equal(imgs[1].RepoTags, want) {
		t.Errorf("RepoTags = %v, want %v", imgs[1].RepoTags, want)
	}
}

func TestCorruptRefsFile(t *testing.T) {
	s := newStore(t)
	if err := os.WriteFile(s.refsPath(), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.List(context.Background()); !errdefs.IsDataLoss(err) {
		t.Fatalf("List over a corrupt refs.json: %v, want errdefs.ErrDataLoss", err)
	}
}

// TestOpenSweepsTemps plants temporary files of a crashed writer.
func TestOpenSweepsTemps(t *testing.T) {
	root := t.TempDir()
	s, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	temps := []string{filepath.Join(root, ".tmp-refs.json-123"), filepath.Join(root, "images", ".tmp-abc.json-456")}
	for _, p := range temps {
		if err := os.WriteFile(p, []byte("partial"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	s, err = Open(root)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, p := range temps {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s not swept: %v", p, err)
		}
	}
}

func TestResolve(t *testing.T) {
	s := newStore(t)
	now := time.Now()
	a := putImage(t, s, idFrom("", "a"), now)
	b := putImage(t, s, idFrom("abc", "b"), now) // ID starts with abc
	c := putImage(t, s, idFrom("", "c"), now)    // tagged "abc"
	d1 := putImage(t, s, idFrom("ddd1", "d1"), now)
	d2 := putImage(t, s, idFrom("ddd2", "d2"), now)
	pinned := digest.FromString("index digest")
	tag(t, s, "busybox:latest", a.ID)
	tag(t, s, "localhost:5000/a/b:1", a.ID)
	tag(t, s, "busybox@"+string(pinned), a.ID)
	tag(t, s, "abc", c.ID)
	tag(t, s, "repo/x:v1", d1.ID)

	tests := []struct {
		in        string
		want      digest.Digest
		wantClass error
	}{
		{in: "busybox", want: a.ID},
		{in: "busybox:latest", want: a.ID},
		{in: "docker.io/library/busybox", want: a.ID},
		{in: "localhost:5000/a/b:1", want: a.ID},
		{in: string(a.ID), want: a.ID},
		{in: a.ID.Encoded(), want: a.ID},
		{in: a.ID.Encoded()[:12], want: a.ID},
		{in: "busybox@" + string(pinned), want: a.ID},
		{in: "abc", want: c.ID},        // the tag wins over b's ID prefix
		{in: "sha256:abc", want: b.ID}, // not a tag: an ID prefix
		{in: b.ID.Encoded()[:8], want: b.ID},
		{in: "ddd", wantClass: errdefs.ErrInvalid}, // ambiguous
		{in: "ddd2", want: d2.ID},
		// name@digest not in refs.json: the image whose manifest it is,
		// if that image has a reference in the repository.
		{in: "repo/x@" + string(d1.Manifest.Digest), want: d1.ID},
		{in: "other/x@" + string(d1.Manifest.Digest), wantClass: errdefs.ErrNotFound},
		{in: "nosuch", wantClass: errdefs.ErrNotFound},
		{in: "busybox:1.0", wantClass: errdefs.ErrNotFound},
		{in: string(idFrom("", "absent")), wantClass: errdefs.ErrNotFound},
		{in: "a:b:c", wantClass: errdefs.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			img, err := s.Resolve(context.Background(), tt.in)
			checkErr(t, err, tt.wantClass, "")
			if err == nil && img.ID != tt.want {
				t.Errorf("Resolve(%q) = %s, want %s", tt.in, img.ID, tt.want)
			}
			if errdefs.IsNotFound(err) && err.Error() != "No such image: "+tt.in {
				t.Errorf("error %q, want %q", err, "No such image: "+tt.in)
			}
		})
	}
	img, err := s.Resolve(context.Background(), "busybox")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"busybox:latest", "localhost:5000/a/b:1"}; !slices.Equal(img.RepoTags, want) {
		t.Errorf("RepoTags = %v, want %v", img.RepoTags, want)
	}
	if !strings.HasPrefix(img.RepoDigests[0], "busybox@sha256:") {
		t.Errorf("RepoDigests = %v", img.RepoDigests)
	}
}
