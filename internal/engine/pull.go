package engine

import (
	"context"
	"fmt"

	"github.com/distribution/reference"

	"github.com/strata-containers/strata/internal/distribution"
	"github.com/strata-containers/strata/internal/errdefs"
	sref "github.com/strata-containers/strata/internal/reference"
)

// PullOptions tune ImagePull.
type PullOptions struct {
	Registry RegistryOptions
	Platform string // os/arch[/variant]; "" for the host's
	AllTags  bool   // pull every tag of the repository
	Progress func(Progress)
	// ProgressBytes adds throttled byte counts to Progress ("Downloading"
	// with Current/Total), for a terminal's progress bars.
	ProgressBytes bool
}

// PullResult is one image a pull made available.
type PullResult struct {
	Ref      string // familiar reference pulled ("busybox:latest")
	FullRef  string // the same, fully qualified ("docker.io/library/busybox:latest")
	ID       string
	Digest   string // of what the reference resolved to
	Fetched  int    // layers downloaded
	UpToDate bool
}

// ImagePull pulls name (`docker pull`): a tag, a digest, or with AllTags a
// repository's every tag. gc.lock is held shared throughout, so nothing
// pulled is collected before the image record names it.
func (e *Engine) ImagePull(ctx context.Context, name string, opts PullOptions) ([]PullResult, error) {
	ref, err := sref.ParseNoDefaultTag(name)
	if err != nil {
		return nil, err
	}
	platform, err := parsePlatform(opts.Platform)
	if err != nil {
		return nil, err
	}
	client, err := registryClient(opts.Registry)
	if err != nil {
		return nil, err
	}
	repo, err := client.Repository(ctx, ref, false)
	if err != nil {
		return nil, err
	}
	refs, err := pullRefs(ctx, ref, opts.AllTags, repo.Tags)
	if err != nil {
		return nil, err
	}
	defer e.shared()()
	var out []PullResult
	for _, r := range refs {
		p, err := distribution.Pull(ctx, e.distStores(), repo, r, distribution.PullOptions{Platform: &platform, Progress: opts.Progress, ProgressBytes: opts.ProgressBytes})
		if err != nil {
			return out, err
		}
		out = append(out, PullResult{Ref: sref.Familiar(r), FullRef: r.String(), ID: p.ID.String(), Digest: p.Digest.String(), Fetched: p.Fetched, UpToDate: p.UpToDate})
	}
	return out, nil
}

// pullRefs expands a reference into what to pull: itself (with "latest"
// added), or with allTags every tag of the repository.
func pullRefs(ctx context.Context, ref sref.Named, allTags bool, tags func(context.Context) ([]string, error)) ([]sref.Named, error) {
	if !allTags {
		return []sref.Named{reference.TagNameOnly(ref)}, nil
	}
	if !reference.IsNameOnly(ref) {
		return nil, errdefs.Invalid("tag can't be used with --all-tags/-a")
	}
	list, err := tags(ctx)
	if err != nil {
		return nil, err
	}
	var out []sref.Named
	for _, t := range list {
		r, err := reference.WithTag(ref, t)
		if err != nil {
			return nil, errdefs.Invalid("registry tag %q: %w", t, err)
		}
		out = append(out, r)
	}
	return out, nil
}

func (r PullResult) String() string { return fmt.Sprintf("%s@%s", r.Ref, r.Digest) }
