package reference

import (
	"errors"
	"strings"
	"testing"

	dref "github.com/distribution/reference"
	"github.com/opencontainers/go-digest"

	"github.com/strata-containers/strata/internal/errdefs"
)

var hex64 = strings.Repeat("ab", 32)

func TestParse(t *testing.T) {
	tests := []struct {
		in       string
		want     string // full form; "" when an error is expected
		familiar string
		tag      string
		digest   digest.Digest
		repo     string
		errText  string // exact error text expected
	}{
		{in: "busybox", want: "docker.io/library/busybox:latest", familiar: "busybox:latest", tag: "latest", repo: "docker.io/library/busybox"},
		{in: "library/busybox", want: "docker.io/library/busybox:latest", familiar: "busybox:latest", tag: "latest", repo: "docker.io/library/busybox"},
		{in: "docker.io/busybox", want: "docker.io/library/busybox:latest", familiar: "busybox:latest", tag: "latest", repo: "docker.io/library/busybox"},
		{in: "index.docker.io/library/busybox:1.36", want: "docker.io/library/busybox:1.36", familiar: "busybox:1.36", tag: "1.36", repo: "docker.io/library/busybox"},
		{in: "localhost:5000/a/b:1", want: "localhost:5000/a/b:1", familiar: "localhost:5000/a/b:1", tag: "1", repo: "localhost:5000/a/b"},
		{in: "localhost/a", want: "localhost/a:latest", familiar: "localhost/a:latest", tag: "latest", repo: "localhost/a"},
		{
			in: "name@sha256:" + hex64, want: "docker.io/library/name@sha256:" + hex64,
			familiar: "name@sha256:" + hex64, digest: digest.Digest("sha256:" + hex64), repo: "docker.io/library/name",
		},
		{
			// Docker drops a tag given beside a digest: the digest pins the content.
			in: "name:tag@sha256:" + hex64, want: "docker.io/library/name@sha256:" + hex64,
			familiar: "name@sha256:" + hex64, digest: digest.Digest("sha256:" + hex64), repo: "docker.io/library/name",
		},
		{in: "Busybox", errText: "invalid reference format: repository name (library/Busybox) must be lowercase"},
		{in: "", errText: "invalid reference format"},
		{in: "a:b:c", errText: "invalid reference format"},
		{in: "busybox:" + strings.Repeat("t", 129), errText: "invalid reference format"},
		{in: hex64, errText: "invalid repository name (" + hex64 + "), cannot specify 64-byte hexadecimal strings"},
		{in: "name@sha256:abc", errText: "invalid reference format"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			r, err := Parse(tt.in)
			if tt.want == "" {
				if err == nil {
					t.Fatalf("Parse(%q) = %s, want error %q", tt.in, r, tt.errText)
				}
				if !errdefs.IsInvalid(err) {
					t.Errorf("error %v is not errdefs.ErrInvalid", err)
				}
				if err.Error() != tt.errText {
					t.Errorf("error %q, want %q", err, tt.errText)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			got := map[string][2]string{
				"String":     {r.String(), tt.want},
				"Familiar":   {Familiar(r), tt.familiar},
				"Tag":        {Tag(r), tt.tag},
				"Digest":     {string(Digest(r)), string(tt.digest)},
				"Repository": {Repository(r), tt.repo},
			}
			for name, g := range got {
				if g[0] != g[1] {
					t.Errorf("%s = %q, want %q", name, g[0], g[1])
				}
			}
		})
	}
}

func TestParseKeepsLibraryError(t *testing.T) {
	_, err := Parse("a:b:c")
	if !errors.Is(err, dref.ErrReferenceInvalidFormat) {
		t.Fatalf("error %v does not wrap dref.ErrReferenceInvalidFormat", err)
	}
}

func TestParseNoDefaultTag(t *testing.T) {
	r, err := ParseNoDefaultTag("busybox")
	if err != nil {
		t.Fatal(err)
	}
	if r.String() != "docker.io/library/busybox" || Tag(r) != "" || Digest(r) != "" {
		t.Fatalf("ParseNoDefaultTag(busybox) = %s, want a bare name", r)
	}
	if got := FamiliarRepository(r); got != "busybox" {
		t.Errorf("FamiliarRepository = %q, want busybox", got)
	}
}

func TestWithDigest(t *testing.T) {
	r, err := Parse("localhost:5000/a/b:1")
	if err != nil {
		t.Fatal(err)
	}
	d := digest.Digest("sha256:" + hex64)
	c, err := WithDigest(r, d)
	if err != nil {
		t.Fatal(err)
	}
	if want := "localhost:5000/a/b@" + string(d); c.String() != want {
		t.Errorf("WithDigest = %s, want %s", c, want)
	}
	if Tag(c) != "" {
		t.Errorf("WithDigest kept tag %q", Tag(c))
	}
	if _, err := WithDigest(r, "sha256:nothex"); !errdefs.IsInvalid(err) {
		t.Errorf("WithDigest(bad digest) error %v, want errdefs.ErrInvalid", err)
	}
}
