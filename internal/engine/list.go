package engine

import (
	"context"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/strata-containers/strata/internal/reference"
)

// ImageSummary is one image as `images` lists it (docker's API shape).
type ImageSummary struct {
	ID          string            `json:"Id"` // "sha256:…"
	ParentID    string            `json:"ParentId"`
	RepoTags    []string          `json:"RepoTags"`    // familiar "name:tag"; ["<none>:<none>"] when dangling
	RepoDigests []string          `json:"RepoDigests"` // familiar "name@sha256:…"; ["<none>@<none>"] when dangling
	Created     int64             `json:"Created"`     // Unix seconds, from the config
	Size        int64             `json:"Size"`        // sum of the image's layer sizes
	SharedSize  int64             `json:"SharedSize"`  // -1 unless computed (system df)
	Labels      map[string]string `json:"Labels"`
	Containers  int64             `json:"Containers"` // -1 unless computed (system df)
}

// ImageListOptions selects what ImageList returns.
type ImageListOptions struct {
	// All includes intermediate images: untagged images that are the
	// parent of another image.
	All bool
	// Filters: dangling=true|false, label=key[=value], before=<image>,
	// since=<image>, reference=<pattern>, until=<timestamp>.
	Filters Filters
}

// listFilter is ImageListOptions' filters, parsed once.
type listFilter struct {
	Filters
	dangling, danglingSet bool
	before, since         []time.Time
	until                 time.Time
}

// ImageList returns the images that pass opts, newest first.
func (e *Engine) ImageList(ctx context.Context, opts ImageListOptions) ([]ImageSummary, error) {
	defer e.shared()()
	lf, err := e.parseListFilter(ctx, opts.Filters)
	if err != nil {
		return nil, err
	}
	return e.list(ctx, opts.All, lf)
}

func (e *Engine) list(ctx context.Context, all bool, lf listFilter) ([]ImageSummary, error) {
	imgs, err := e.readImages(ctx)
	if err != nil {
		return nil, err
	}
	sizes, err := e.layerSizes(ctx)
	if err != nil {
		return nil, err
	}
	return listFrom(imgs, sizes, all, lf)
}

// listFrom lists imgs (newest first) with the layer sizes given.
func listFrom(imgs []*imageData, sizes map[digest.Digest]int64, all bool, lf listFilter) ([]ImageSummary, error) {
	kids := make(map[digest.Digest]int)
	for _, d := range imgs {
		if d.Parent != "" {
			kids[d.Parent]++
		}
	}
	var out []ImageSummary
	for _, d := range imgs {
		if !lf.passTime(d.created()) || !lf.matchLabels(d.config.Config.Labels) {
			continue
		}
		s, keep, err := summarize(d, lf, all || kids[d.ID] == 0)
		if err != nil {
			return nil, err
		}
		if keep {
			s.Size = d.size(sizes)
			out = append(out, s)
		}
	}
	return out, nil
}

func (e *Engine) parseListFilter(ctx context.Context, f Filters) (listFilter, error) {
	lf := listFilter{Filters: f}
	if err := f.check("dangling", "label", "before", "since", "reference", "until"); err != nil {
		return lf, err
	}
	var err error
	if lf.dangling, lf.danglingSet, err = f.boolean("dangling"); err != nil {
		return lf, err
	}
	if lf.until, err = f.until(time.Now()); err != nil {
		return lf, err
	}
	for _, key := range []string{"before", "since"} {
		for _, v := range f[key] {
			img, err := e.images.Resolve(ctx, v)
			if err != nil {
				return lf, err
			}
			d, err := e.readImage(ctx, img)
			if err != nil {
				return lf, err
			}
			if key == "before" {
				lf.before = append(lf.before, d.created())
			} else {
				lf.since = append(lf.since, d.created())
			}
		}
	}
	return lf, nil
}

func (lf listFilter) passTime(created time.Time) bool {
	for _, b := range lf.before {
		if !created.Before(b) {
			return false
		}
	}
	for _, s := range lf.since {
		if !created.After(s) {
			return false
		}
	}
	return lf.until.IsZero() || !created.After(lf.until)
}

// summarize builds the summary of d, keeping only the references that match
// a reference= filter, and decides whether d is listed at all: dangling
// images are listed unless filtered out, intermediate ones only if shown.
func summarize(d *imageData, lf listFilter, shown bool) (ImageSummary, bool, error) {
	s := ImageSummary{
		ID: d.ID.String(), ParentID: d.Parent.String(), Created: d.createdUnix(),
		SharedSize: -1, Containers: -1, Labels: d.config.Config.Labels,
		RepoTags: []string{}, RepoDigests: []string{},
	}
	refs, err := refsOf(d.Image)
	if err != nil {
		return s, false, err
	}
	for _, r := range refs {
		if ok, err := lf.matchAnyReference(r.named); err != nil || !ok {
			if err != nil {
				return s, false, err
			}
			continue
		}
		if r.canonical {
			s.RepoDigests = append(s.RepoDigests, reference.Familiar(r.named))
		} else {
			s.RepoTags = append(s.RepoTags, reference.Familiar(r.named))
		}
	}
	if len(s.RepoTags) == 0 && len(s.RepoDigests) == 0 {
		if !shown || (lf.danglingSet && !lf.dangling) || len(lf.Filters["reference"]) > 0 {
			return s, false, nil
		}
		s.RepoTags, s.RepoDigests = []string{"<none>:<none>"}, []string{"<none>@<none>"}
		return s, true, nil
	}
	return s, !(lf.danglingSet && lf.dangling && len(s.RepoTags) > 0), nil
}

func (lf listFilter) matchAnyReference(r reference.Named) (bool, error) {
	patterns := lf.Filters["reference"]
	if len(patterns) == 0 {
		return true, nil
	}
	for _, p := range patterns {
		ok, err := matchReference(p, r)
		if err != nil || ok {
			return ok, err
		}
	}
	return false, nil
}
