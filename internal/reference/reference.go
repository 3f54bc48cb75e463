// Package reference parses and normalises image references the way Docker
// does: "busybox" is docker.io/library/busybox:latest, "name@sha256:…" pins a
// digest. It wraps github.com/distribution/reference and classifies its
// errors as errdefs.ErrInvalid.
//
// Invariants of every Named this package returns: it is fully qualified
// (domain and path), and it carries a tag or a digest but never both — a
// digest pins the content, so Docker drops a tag given beside it, and so do
// we. Only ParseNoDefaultTag can return a bare name.
package reference

import (
	dref "github.com/distribution/reference"
	"github.com/opencontainers/go-digest"

	"github.com/strata-containers/strata/internal/errdefs"
)

// Named is a normalised reference (always has a domain and a path).
type Named = dref.Named

// Parse parses s as Docker does ("busybox", "localhost:5000/a/b:1",
// "name@sha256:…") and adds the default tag "latest" when neither a tag nor
// a digest is given. A tag beside a digest ("name:tag@sha256:…") is dropped,
// as Docker does. Errors are errdefs.ErrInvalid with Docker's wording
// ("invalid reference format", "invalid reference format: repository name
// (library/Busybox) must be lowercase"), so the CLI can print them as Docker
// would; the distribution/reference error stays reachable with errors.Is.
func Parse(s string) (Named, error) {
	r, err := ParseNoDefaultTag(s)
	if err != nil {
		return nil, err
	}
	return dref.TagNameOnly(r), nil
}

// ParseNoDefaultTag is Parse without adding "latest" (for `images name`
// filters and `push --all-tags`).
func ParseNoDefaultTag(s string) (Named, error) {
	r, err := dref.ParseNormalizedNamed(s)
	if err != nil {
		return nil, errdefs.Invalid("%w", err)
	}
	if d, ok := r.(dref.Digested); ok {
		if _, tagged := r.(dref.Tagged); tagged {
			// Cannot fail: r's name and digest were just validated.
			return dref.WithDigest(dref.TrimNamed(r), d.Digest())
		}
	}
	return r, nil
}

// Familiar returns the short form users type: "busybox:latest",
// "localhost:5000/a/b:1".
func Familiar(r Named) string { return dref.FamiliarString(r) }

// Tag returns the tag of r, or "" if it has none.
func Tag(r Named) string {
	if t, ok := r.(dref.Tagged); ok {
		return t.Tag()
	}
	return ""
}

// Digest returns the digest of r, or "" if it has none.
func Digest(r Named) digest.Digest {
	if d, ok := r.(dref.Digested); ok {
		return d.Digest()
	}
	return ""
}

// WithDigest returns the repository of r pinned to d ("name@sha256:…").
// An invalid digest is errdefs.ErrInvalid.
func WithDigest(r Named, d digest.Digest) (Named, error) {
	if err := d.Validate(); err != nil {
		return nil, errdefs.Invalid("invalid digest %q: %w", d, err)
	}
	c, err := dref.WithDigest(dref.TrimNamed(r), d)
	if err != nil {
		return nil, errdefs.Invalid("pinning %s to %s: %w", r.Name(), d, err)
	}
	return c, nil
}

// Repository returns the repository name of r without tag or digest
// ("docker.io/library/busybox").
func Repository(r Named) string { return r.Name() }

// FamiliarRepository is Repository in its short form ("busybox").
func FamiliarRepository(r Named) string { return dref.FamiliarName(r) }
