package content

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/iotest"

	"github.com/opencontainers/go-digest"

	"github.com/strata-containers/strata/internal/errdefs"
)

func newStore(t testing.TB) *Store {
	t.Helper()
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func randomBytes(t testing.TB, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// names lists a directory's entries.
func names(t testing.TB, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

// assertEmpty fails unless the store has no blobs and no ingests.
func assertEmpty(t *testing.T, s *Store) {
	t.Helper()
	if got := names(t, s.blobDir()); len(got) != 0 {
		t.Errorf("blobs left behind: %v", got)
	}
	if got := names(t, s.ingestDir()); len(got) != 0 {
		t.Errorf("ingests left behind: %v", got)
	}
}

func TestIngestRoundTrip(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	data := randomBytes(t, 100_000)
	want := digest.FromBytes(data)
	info, err := s.Ingest(ctx, bytes.NewReader(data), want, int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if info != (Info{Digest: want, Size: int64(len(data))}) {
		t.Fatalf("Ingest = %+v, want %s of %d bytes", info, want, len(data))
	}
	got, err := s.ReadAll(ctx, want)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("ReadAll: %d bytes, %v; want the ingested bytes", len(got), err)
	}
	fi, err := os.Stat(s.Path(want))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o444 {
		t.Errorf("blob mode %v, want 0444", fi.Mode().Perm())
	}
	if got, err := s.Info(ctx, want); err != nil || got != info {
		t.Errorf("Info = %+v, %v; want %+v", got, err, info)
	}
	if got := names(t, s.ingestDir()); len(got) != 0 {
		t.Errorf("ingests left behind: %v", got)
	}
}

func TestIngestWithoutExpectedDigest(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	data := []byte("no digest given")
	info, err := s.Ingest(ctx, bytes.NewReader(data), "", -1)
	if err != nil {
		t.Fatal(err)
	}
	if info.Digest != digest.FromBytes(data) || info.Size != int64(len(data)) {
		t.Fatalf("Ingest = %+v, want %s", info, digest.FromBytes(data))
	}
	if err := s.Verify(ctx, info.Digest); err != nil {
		t.Fatal(err)
	}
}

// TestIngestMismatch checks that a stream that is not what the caller said
// is rejected as invalid and leaves no blob and no ingest behind.
func TestIngestMismatch(t *testing.T) {
	data := []byte("the real bytes")
	right := digest.FromBytes(data)
	wrong := digest.FromString("other bytes")
	tests := []struct {
		name     string
		expected digest.Digest
		size     int64
		wantText []string
	}{
		{"wrong digest", wrong, -1, []string{"expected " + wrong.String(), "actual " + right.String()}},
		{"wrong digest right size", wrong, int64(len(data)), []string{wrong.String(), right.String()}},
		{"stream shorter than size", right, int64(len(data)) + 1, []string{"size mismatch"}},
		{"stream longer than size", right, int64(len(data)) - 1, []string{"size mismatch"}},
		{"longer, no digest", "", 3, []string{"size mismatch"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t)
			_, err := s.Ingest(context.Background(), bytes.NewReader(data), tt.expected, tt.size)
			if !errdefs.IsInvalid(err) {
				t.Fatalf("Ingest error %v, want errdefs.ErrInvalid", err)
			}
			for _, w := range tt.wantText {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			assertEmpty(t, s)
		})
	}
}

// TestIngestExistingWritesNothing replaces the ingest directory with a file,
// so that any attempt to write an ingest fails, and checks that ingesting a
// blob the store has already still verifies the stream.
func TestIngestExistingWritesNothing(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	data := []byte("already here")
	d := digest.FromBytes(data)
	if _, err := s.Ingest(ctx, bytes.NewReader(data), d, -1); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(s.ingestDir()); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(s.ingestDir(), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	info, err := s.Ingest(ctx, bytes.NewReader(data), d, int64(len(data)))
	if err != nil || info.Digest != d || info.Size != int64(len(data)) {
		t.Fatalf("re-ingest = %+v, %v; want %s", info, err, d)
	}
	if _, err := s.Ingest(ctx, strings.NewReader("impostor"), d, -1); !errdefs.IsInvalid(err) {
		t.Fatalf("re-ingest of other bytes: error %v, want errdefs.ErrInvalid", err)
	}
	if _, err := s.Ingest(ctx, bytes.NewReader(data), d, 1); !errdefs.IsInvalid(err) {
		t.Fatalf("re-ingest with wrong size: error %v, want errdefs.ErrInvalid", err)
	}
	if err := s.Verify(ctx, d); err != nil {
		t.Fatalf("existing blob damaged: %v", err)
	}
}

func TestConcurrentIngestSameBlob(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	data := randomBytes(t, 1<<20)
	d := digest.FromBytes(data)
	var wg sync.WaitGroup
	errs := make([]error, 10)
	for i := range errs {
		wg.Go(func() {
			expected := d
			if i%2 == 1 {
				expected = "" // half of them cannot take the verify-only path
			}
			info, err := s.Ingest(ctx, bytes.NewReader(data), expected, int64(len(data)))
			if err == nil && info.Digest != d {
				err = errors.New("wrong digest " + info.Digest.String())
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("ingest %d: %v", i, err)
		}
	}
	if got := names(t, s.blobDir()); !slices.Equal(got, []string{d.Encoded()}) {
		t.Errorf("blobs %v, want only %s", got, d.Encoded())
	}
	if got := names(t, s.ingestDir()); len(got) != 0 {
		t.Errorf("ingests left behind: %v", got)
	}
	if err := s.Verify(ctx, d); err != nil {
		t.Fatal(err)
	}
}

func TestWriterLifecycle(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	w, err := s.Writer(ctx, "", -1)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, "part one, ")
	io.WriteString(w, "part two")
	want := digest.FromString("part one, part two")
	if w.Digest() != want {
		t.Fatalf("Digest = %s, want %s", w.Digest(), want)
	}
	if _, err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Errorf("Close after Commit: %v", err)
	}
	if _, err := w.Commit(ctx); err == nil {
		t.Error("second Commit succeeded")
	}
	if _, err := w.Write([]byte("x")); err == nil {
		t.Error("Write after Commit succeeded")
	}

	// A closed writer leaves nothing.
	w2, err := s.Writer(ctx, "", -1)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w2, "abandoned")
	w2.Close()
	if got := names(t, s.ingestDir()); len(got) != 0 {
		t.Errorf("ingests left behind: %v", got)
	}
}

func TestIngestCanceled(t *testing.T) {
	s := newStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := bytes.NewReader([]byte("never stored"))
	if _, err := s.Ingest(ctx, r, "", -1); !errors.Is(err, context.Canceled) {
		t.Fatalf("Ingest error %v, want context.Canceled", err)
	}
	assertEmpty(t, s)
}

// TestIngestSourceFails cuts the stream with an error half way.
func TestIngestSourceFails(t *testing.T) {
	s := newStore(t)
	broken := errors.New("connection reset")
	r := io.MultiReader(strings.NewReader("first half"), iotest.ErrReader(broken))
	_, err := s.Ingest(context.Background(), r, "", -1)
	if !errors.Is(err, broken) {
		t.Fatalf("Ingest error %v, want the source's error", err)
	}
	assertEmpty(t, s)
}

// TestVerifyOnlyBlobDeleted deletes the existing blob under a writer that
// was only verifying it: its bytes were never kept, so Commit must fail.
func TestVerifyOnlyBlobDeleted(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	data := []byte("soon gone")
	d := digest.FromBytes(data)
	if _, err := s.Ingest(ctx, bytes.NewReader(data), d, -1); err != nil {
		t.Fatal(err)
	}
	w, err := s.Writer(ctx, d, int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	w.Write(data)
	if err := s.Delete(ctx, d); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Commit(ctx); !errdefs.IsConflict(err) {
		t.Fatalf("Commit after the blob was deleted: %v, want errdefs.ErrConflict", err)
	}
	assertEmpty(t, s)
}
