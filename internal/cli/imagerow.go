package cli

import (
	"sort"
	"strconv"
	"time"

	"github.com/strata-containers/strata/internal/cli/format"
	"github.com/strata-containers/strata/internal/engine"
	"github.com/strata-containers/strata/internal/reference"
)

// now is the clock "2 hours ago" is measured against; tests fix it.
var now = time.Now

const (
	imageTableFormat           = "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
	imageTableFormatWithDigest = "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
)

var imageHeader = format.Header{
	"ID":           "IMAGE ID",
	"Repository":   "REPOSITORY",
	"Tag":          "TAG",
	"Digest":       "DIGEST",
	"CreatedSince": "CREATED",
	"CreatedAt":    "CREATED AT",
	"Size":         "SIZE",
	"Containers":   "CONTAINERS",
	"VirtualSize":  "SIZE",
	"SharedSize":   "SHARED SIZE",
	"UniqueSize":   "UNIQUE SIZE",
}

// imageFormat turns the --format, -q and --digests flags into a format, as
// docker's NewImageFormat does: -q and --digests only change the default.
func imageFormat(source string, quiet, digests bool) format.Format {
	if source == "" || source == format.TableKey {
		switch {
		case quiet:
			return format.QuietFormat
		case digests:
			return imageTableFormatWithDigest
		}
		return imageTableFormat
	}
	f := format.Format(source)
	if f.IsTable() && digests && !f.Contains("{{.Digest}}") {
		f += "\t{{.Digest}}"
	}
	return f
}

// imageRow is one line of `images`: an image under one of its names.
type imageRow struct {
	img    engine.ImageSummary
	trunc  bool
	repo   string
	tag    string
	digest string
}

// imageRows gives the lines of one image: one per repository:tag (times
// its digests in that repository when digests are shown), then one per
// repository named only by digest; "<none>" fills the gaps.
func imageRows(img engine.ImageSummary, trunc, withDigest, showDigests bool) []*imageRow {
	if dangling(img) {
		return []*imageRow{{img: img, trunc: trunc, repo: "<none>", tag: "<none>", digest: "<none>"}}
	}
	tags := map[string][]string{}
	digests := map[string][]string{}
	for _, s := range img.RepoTags {
		if r, err := reference.ParseNoDefaultTag(s); err == nil && reference.Tag(r) != "" {
			repo := reference.FamiliarRepository(r)
			tags[repo] = append(tags[repo], reference.Tag(r))
		}
	}
	for _, s := range img.RepoDigests {
		if r, err := reference.ParseNoDefaultTag(s); err == nil && reference.Digest(r) != "" {
			repo := reference.FamiliarRepository(r)
			digests[repo] = append(digests[repo], reference.Digest(r).String())
		}
	}
	var rows []*imageRow
	add := func(repo, tag, dgst string) {
		rows = append(rows, &imageRow{img: img, trunc: trunc, repo: repo, tag: tag, digest: dgst})
	}
	for _, repo := range sortedKeys(tags) {
		ds := digests[repo]
		delete(digests, repo)
		if !withDigest || len(ds) == 0 {
			ds = []string{"<none>"}
		}
		for _, tag := range tags[repo] {
			for _, d := range ds {
				add(repo, tag, d)
			}
		}
	}
	for _, repo := range sortedKeys(digests) {
		if !showDigests {
			add(repo, "<none>", "")
			continue
		}
		for _, d := range digests[repo] {
			add(repo, "<none>", d)
		}
	}
	return rows
}

func dangling(img engine.ImageSummary) bool {
	if len(img.RepoTags) == 0 && len(img.RepoDigests) == 0 {
		return true
	}
	return len(img.RepoTags) == 1 && img.RepoTags[0] == "<none>:<none>" &&
		len(img.RepoDigests) == 1 && img.RepoDigests[0] == "<none>@<none>"
}

func sortedKeys(m map[string][]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func (r *imageRow) MarshalJSON() ([]byte, error) { return format.MarshalMethods(r) }

func (r *imageRow) ID() string {
	if r.trunc {
		return format.TruncateID(r.img.ID)
	}
	return r.img.ID
}

func (r *imageRow) Repository() string { return r.repo }
func (r *imageRow) Tag() string        { return r.tag }
func (r *imageRow) Digest() string     { return r.digest }

func (r *imageRow) CreatedSince() string { return format.Since(time.Unix(r.img.Created, 0), now()) }
func (r *imageRow) CreatedAt() string    { return time.Unix(r.img.Created, 0).String() }
func (r *imageRow) Size() string         { return format.Size(r.img.Size) }

func (r *imageRow) Containers() string {
	if r.img.Containers == -1 {
		return "N/A"
	}
	return strconv.FormatInt(r.img.Containers, 10)
}

// VirtualSize is Size under its pre-1.10 name, kept for old templates.
func (r *imageRow) VirtualSize() string { return format.HumanSize(r.img.Size) }

func (r *imageRow) SharedSize() string {
	if r.img.SharedSize == -1 {
		return "N/A"
	}
	return format.HumanSize(r.img.SharedSize)
}

func (r *imageRow) UniqueSize() string {
	if r.img.Size == -1 || r.img.SharedSize == -1 {
		return "N/A"
	}
	return format.HumanSize(r.img.Size - r.img.SharedSize)
}
