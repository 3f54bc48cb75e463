package content

import (
	"bytes"
	"context"
	"io"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/strata-containers/strata/internal/errdefs"
)

func TestSourceVerifiedWriter(t *testing.T) {
	ctx := context.Background()
	data := randomBytes(t, 20<<20) // past the write-back chunk
	d := digest.FromBytes(data)
	for _, tc := range []struct {
		name     string
		expected digest.Digest
		size     int64
		write    []byte
		class    func(error) bool // nil: commits
	}{
		{"commits", d, int64(len(data)), data, nil},
		{"short", d, int64(len(data)), data[:100], errdefs.IsInvalid},
		{"long", d, 10, data[:11], errdefs.IsInvalid},
		{"no digest", "", int64(len(data)), nil, errdefs.IsInvalid},
		{"no size", d, -1, nil, errdefs.IsInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t)
			w, err := s.SourceVerifiedWriter(ctx, tc.expected, tc.size)
			if err == nil {
				defer w.Close()
				_, err = io.Copy(w, bytes.NewReader(tc.write))
			}
			if err == nil {
				_, err = w.Commit(ctx)
			}
			if tc.class != nil {
				if !tc.class(err) {
					t.Fatalf("got %v", err)
				}
				if w != nil {
					w.Close()
				}
				assertEmpty(t, s)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			rc, err := s.Open(ctx, d)
			if err != nil {
				t.Fatal(err)
			}
			defer rc.Close()
			if got, err := io.ReadAll(rc); err != nil || !bytes.Equal(got, data) {
				t.Fatalf("stored blob differs (%v)", err)
			}
		})
	}
}
