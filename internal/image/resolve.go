package image

import (
	"context"
	"strings"

	"github.com/opencontainers/go-digest"

	"github.com/strata-containers/strata/internal/errdefs"
	"github.com/strata-containers/strata/internal/reference"
)

// Resolve finds an image as docker does, trying in turn:
//
//  1. a full ID, "sha256:<64 hex>" or "<64 hex>";
//  2. a reference in refs.json ("busybox" means busybox:latest);
//  3. for name@digest not in refs.json, the image whose manifest has that
//     digest and that has a reference in the same repository;
//  4. a short ID (>= 1 hex digit, with or without "sha256:"), unambiguous.
//
// So a tag wins over an ID prefix that is spelt the same ("abc"). Not
// found: errdefs.ErrNotFound ("No such image: <s>"); an ambiguous short ID:
// errdefs.ErrInvalid; s neither a reference nor an ID: the parse error
// (errdefs.ErrInvalid), as Docker answers.
func (s *Store) Resolve(ctx context.Context, s2 string) (Image, error) {
	var img Image
	err := s.readLocked(ctx, func() error {
		r, err := s.readRefs()
		if err != nil {
			return err
		}
		id, err := s.resolveID(r, s2)
		if err != nil {
			return err
		}
		rec, err := s.readRecord(id)
		if errdefs.IsNotFound(err) {
			return errdefs.NotFound("No such image: %s", s2)
		}
		if err != nil {
			return err
		}
		img = newImage(rec, r.byID()[id])
		return nil
	})
	return img, err
}

// resolveID applies Resolve's rules up to the ID; the caller holds the lock.
func (s *Store) resolveID(r refs, str string) (digest.Digest, error) {
	hex := strings.TrimPrefix(str, string(digest.SHA256)+":")
	if len(hex) == 64 && isLowerHex(hex) {
		return digest.NewDigestFromEncoded(digest.SHA256, hex), nil
	}
	ref, parseErr := reference.Parse(str)
	if parseErr == nil {
		if id, ok := r[ref.String()]; ok {
			return id, nil
		}
		if d := reference.Digest(ref); d != "" {
			id, err := s.byManifest(r, reference.Repository(ref), d)
			if err != nil || id != "" {
				return id, err
			}
		}
	}
	if hex != "" && isLowerHex(hex) {
		id, err := s.byPrefix(hex, str)
		if err != nil || id != "" {
			return id, err
		}
	}
	if parseErr != nil {
		return "", parseErr
	}
	return "", errdefs.NotFound("No such image: %s", str)
}

// byManifest finds the image, among those with a reference in repo, whose
// manifest is d. It reads only those images' records.
func (s *Store) byManifest(r refs, repo string, d digest.Digest) (digest.Digest, error) {
	for id, names := range r.byID() {
		inRepo := false
		for _, n := range names {
			inRepo = inRepo || reference.Repository(n) == repo
		}
		if !inRepo {
			continue
		}
		rec, err := s.readRecord(id)
		if errdefs.IsNotFound(err) {
			continue
		}
		if err != nil {
			return "", err
		}
		if rec.Manifest.Digest == d {
			return id, nil
		}
	}
	return "", nil
}

// byPrefix finds the one image whose ID starts with hex; "" if none.
func (s *Store) byPrefix(hex, str string) (digest.Digest, error) {
	ids, err := s.ids()
	if err != nil {
		return "", err
	}
	var found digest.Digest
	for _, id := range ids {
		if !strings.HasPrefix(id.Encoded(), hex) {
			continue
		}
		if found != "" {
			return "", errdefs.Invalid("multiple IDs found with provided prefix: %s", str)
		}
		found = id
	}
	return found, nil
}

func isLowerHex(s string) bool {
	for _, c := range []byte(s) {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
