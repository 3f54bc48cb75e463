package image

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/strata-containers/strata/internal/atomicfile"
	"github.com/strata-containers/strata/internal/errdefs"
	"github.com/strata-containers/strata/internal/reference"
)

// refs is the content of refs.json: full reference string → image ID.
type refs map[string]digest.Digest

func (s *Store) refsPath() string { return filepath.Join(s.root, "refs.json") }

// readRefs reads refs.json; the caller holds the lock. A missing file is an
// empty store.
func (s *Store) readRefs() (refs, error) {
	b, err := os.ReadFile(s.refsPath())
	if errors.Is(err, fs.ErrNotExist) {
		return refs{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading image references: %w", err)
	}
	r := refs{}
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, errdefs.DataLoss("image references %s: %w", s.refsPath(), err)
	}
	return r, nil
}

// writeRefs replaces refs.json; the caller holds the lock exclusively.
func (s *Store) writeRefs(r refs) error {
	b, err := json.MarshalIndent(r, "", "  ") // keys sorted: diffable by hand
	if err != nil {
		return fmt.Errorf("encoding image references: %w", err)
	}
	return atomicfile.WriteFile(s.refsPath(), b, 0o600)
}

// byID groups the references by the image they name. Keys that do not
// parse (a hand-edited file) are left out rather than failing every read.
func (r refs) byID() map[digest.Digest][]reference.Named {
	out := make(map[digest.Digest][]reference.Named)
	for key, id := range r {
		if named, err := reference.ParseNoDefaultTag(key); err == nil {
			out[id] = append(out[id], named)
		}
	}
	return out
}

// refKey is the refs.json key of ref: its full form, with "latest" added to
// a bare name and a tag beside a digest dropped, as reference.Parse does.
func refKey(ref reference.Named) (string, error) {
	if ref == nil {
		return "", errdefs.Invalid("missing image reference")
	}
	r, err := reference.Parse(ref.String())
	if err != nil {
		return "", err
	}
	return r.String(), nil
}

// Tag points ref (a tag or a name@digest) at id, moving it from any other
// image. The image must exist (else errdefs.ErrNotFound). A bare name is
// tagged "latest". The image's LastTagTime becomes now.
func (s *Store) Tag(ctx context.Context, ref reference.Named, id digest.Digest) error {
	if err := checkID(id); err != nil {
		return err
	}
	key, err := refKey(ref)
	if err != nil {
		return err
	}
	return s.writeLocked(ctx, func() error {
		rec, err := s.readRecord(id)
		if err != nil {
			return err
		}
		r, err := s.readRefs()
		if err != nil {
			return err
		}
		if r[key] != id {
			r[key] = id
			if err := s.writeRefs(r); err != nil {
				return fmt.Errorf("tagging %s: %w", key, err)
			}
		}
		rec.LastTagTime = time.Now().UTC()
		return s.writeRecord(rec)
	})
}

// Untag removes ref and returns the ID it named; errdefs.ErrNotFound if unknown.
func (s *Store) Untag(ctx context.Context, ref reference.Named) (digest.Digest, error) {
	key, err := refKey(ref)
	if err != nil {
		return "", err
	}
	var id digest.Digest
	err = s.writeLocked(ctx, func() error {
		r, err := s.readRefs()
		if err != nil {
			return err
		}
		var ok bool
		if id, ok = r[key]; !ok {
			return errdefs.NotFound("No such image: %s", reference.Familiar(ref))
		}
		delete(r, key)
		if err := s.writeRefs(r); err != nil {
			return fmt.Errorf("untagging %s: %w", key, err)
		}
		return nil
	})
	return id, err
}

// Delete removes the record and every reference to it; errdefs.ErrNotFound
// if there is no such image. The references go first: a crash in between
// leaves an untagged image, never a reference to nothing.
func (s *Store) Delete(ctx context.Context, id digest.Digest) error {
	if err := checkID(id); err != nil {
		return err
	}
	return s.writeLocked(ctx, func() error {
		if _, err := s.readRecord(id); err != nil {
			return err
		}
		r, err := s.readRefs()
		if err != nil {
			return err
		}
		n := len(r)
		for key, target := range r {
			if target == id {
				delete(r, key)
			}
		}
		if len(r) != n {
			if err := s.writeRefs(r); err != nil {
				return fmt.Errorf("deleting image %s: %w", id, err)
			}
		}
		if err := os.Remove(s.recordPath(id)); err != nil {
			return fmt.Errorf("deleting image %s: %w", id, err)
		}
		return atomicfile.SyncDir(s.imageDir())
	})
}
