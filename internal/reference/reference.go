// Package reference parses and normalises image references the way Docker
// does: "busybox" is docker.io/library/busybox:latest, "name@sha256:…" pins a
// digest. It wraps github.com/distribution/reference and classifies its
// errors as errdefs.ErrInvalid.
package reference

import (
	dref "github.com/distribution/reference"
	"github.com/opencontainers/go-digest"
)

// Named is a normalised reference (always has a domain and a path).
type Named = dref.Named

// Parse parses s as Docker does ("busybox", "localhost:5000/a/b:1",
// "name@sha256:…") and adds the default tag "latest" when neither a tag nor
// a digest is given. Errors are errdefs.ErrInvalid and quote s.
func Parse(s string) (Named, error) { panic("unimplemented") }

// ParseNoDefaultTag is Parse without adding "latest" (for `images name`
// filters and `push --all-tags`).
func ParseNoDefaultTag(s string) (Named, error) { panic("unimplemented") }

// Familiar returns the short form users type: "busybox:latest",
// "localhost:5000/a/b:1".
func Familiar(r Named) string { panic("unimplemented") }

// Tag returns the tag of r, or "" if it has none.
func Tag(r Named) string { panic("unimplemented") }

// Digest returns the digest of r, or "" if it has none.
func Digest(r Named) digest.Digest { panic("unimplemented") }

// WithDigest returns the repository of r pinned to d ("name@sha256:…").
func WithDigest(r Named, d digest.Digest) (Named, error) { panic("unimplemented") }

// Repository returns the repository name of r without tag or digest
// ("docker.io/library/busybox").
func Repository(r Named) string { panic("unimplemented") }

// FamiliarRepository is Repository in its short form ("busybox").
func FamiliarRepository(r Named) string { panic("unimplemented") }
