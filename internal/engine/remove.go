package engine

import (
	"context"
	"strings"

	"github.com/opencontainers/go-digest"

	"github.com/strata-containers/strata/internal/errdefs"
	"github.com/strata-containers/strata/internal/image"
	"github.com/strata-containers/strata/internal/reference"
)

// DeleteResponse is one event of a removal, as docker reports it: a
// reference that was removed, or an image or layer that was deleted.
type DeleteResponse struct {
	Untagged string `json:"Untagged,omitempty"`
	Deleted  string `json:"Deleted,omitempty"`
}

// RemoveOptions tunes ImageRemove.
type RemoveOptions struct {
	Force   bool // remove an image with several references or used by a stopped container
	NoPrune bool // keep untagged parents
}

// ImageRemove removes name as `docker rmi` does. A reference (name:tag,
// name@digest) is untagged, and the image deleted only when that was its
// last reference. An ID deletes the image and its references, refusing
// without Force when several repositories reference it. Deleting an image
// then deletes its untagged parents (unless NoPrune) and collects garbage;
// the removed layers are reported as "Deleted:" events too.
func (e *Engine) ImageRemove(ctx context.Context, name string, opts RemoveOptions) ([]DeleteResponse, error) {
	unlock, err := e.exclusive(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	rm := &remover{e: e}
	if err := rm.remove(ctx, name, opts.Force, !opts.NoPrune); err != nil {
		return rm.records, err
	}
	return rm.collect(ctx)
}

// remover carries out removals with gc.lock held exclusively, so the image
// store cannot change under it except by its own hand.
type remover struct {
	e       *Engine
	records []DeleteResponse
}

func (r *remover) untagged(ref reference.Named) {
	r.records = append(r.records, DeleteResponse{Untagged: reference.Familiar(ref)})
}

// collect runs the garbage collector and reports the layers it removed.
func (r *remover) collect(ctx context.Context) ([]DeleteResponse, error) {
	rep, err := r.e.gc(ctx)
	for _, l := range rep.Layers {
		r.records = append(r.records, DeleteResponse{Deleted: l.ChainID.String()})
	}
	return r.records, err
}

func (r *remover) remove(ctx context.Context, name string, force, prune bool) error {
	img, err := r.e.images.Resolve(ctx, name)
	if err != nil {
		return err
	}
	refs, err := refsOf(img)
	if err != nil {
		return err
	}
	if !isIDPrefix(img.ID, name) {
		return r.removeReference(ctx, img, refs, name, force, prune)
	}
	if singleReference(refs) {
		mask := conflictHard
		if !force {
			mask |= conflictSoft &^ conflictActiveReference
		}
		if c, err := r.conflict(ctx, img.ID, mask); c != nil || err != nil {
			return orConflict(c, err)
		}
		for _, ref := range refs {
			if _, err := r.e.images.Untag(ctx, ref.named); err != nil {
				return err
			}
			r.untagged(ref.named)
		}
	}
	return r.deleteImage(ctx, img.ID, force, prune, false)
}

// removeReference untags the reference name; the image goes only if that
// was its last reference.
func (r *remover) removeReference(ctx context.Context, img image.Image, refs []imageRef, name string, force, prune bool) error {
	if !force && singleReference(refs) {
		if u, err := r.firstUse(ctx, img.ID, anyContainer); err != nil || u != nil {
			if err != nil {
				return err
			}
			return errdefs.Conflict("conflict: unable to remove repository reference %q (must force) - container %s is using its referenced image %s",
				name, shortContainer(u.ContainerID), shortID(img.ID))
		}
	}
	target, err := reference.Parse(name)
	if err != nil {
		return err
	}
	if _, err := r.e.images.Untag(ctx, target); err != nil {
		return err
	}
	r.untagged(target)
	remaining := withoutRef(refs, target)
	if reference.Digest(target) == "" && !hasTagIn(remaining, target.Name()) {
		// The repository's last tag went: its digest references would
		// only keep a dangling image alive, so docker drops them too.
		var kept []imageRef
		for _, ref := range remaining {
			if !ref.canonical || ref.named.Name() != target.Name() {
				kept = append(kept, ref)
				continue
			}
			if _, err := r.e.images.Untag(ctx, ref.named); err != nil {
				return err
			}
			r.untagged(ref.named)
		}
		remaining = kept
	}
	if len(remaining) > 0 {
		return nil
	}
	return r.deleteImage(ctx, img.ID, force, prune, true)
}

// deleteImage deletes the image id and its references, then its parent if
// prune and the parent became an unused, untagged leaf. quiet ignores
// conflicts that only say the image is still wanted (tagged, or a parent).
func (r *remover) deleteImage(ctx context.Context, id digest.Digest, force, prune, quiet bool) error {
	mask := conflictHard
	if !force {
		mask |= conflictSoft
	}
	c, err := r.conflict(ctx, id, mask)
	if err != nil {
		return err
	}
	if c != nil {
		dangling, err := r.dangling(ctx, id)
		if err != nil {
			return err
		}
		if quiet && (!dangling || c.used) {
			return nil
		}
		return c
	}
	img, err := r.e.images.Get(ctx, id)
	if err != nil {
		return err
	}
	refs, err := refsOf(img)
	if err != nil {
		return err
	}
	if err := r.e.images.Delete(ctx, id); err != nil {
		return err
	}
	for _, ref := range refs {
		r.untagged(ref.named)
	}
	r.records = append(r.records, DeleteResponse{Deleted: id.String()})
	if !prune || img.Parent == "" {
		return nil
	}
	if _, err := r.e.images.Get(ctx, img.Parent); errdefs.IsNotFound(err) {
		return nil
	}
	return r.deleteImage(ctx, img.Parent, false, true, true)
}

// dangling: no reference and no child.
func (r *remover) dangling(ctx context.Context, id digest.Digest) (bool, error) {
	imgs, err := r.e.images.List(ctx)
	if err != nil {
		return false, err
	}
	for _, img := range imgs {
		if img.Parent == id {
			return false, nil
		}
		if img.ID == id && len(img.RepoTags)+len(img.RepoDigests) > 0 {
			return false, nil
		}
	}
	return true, nil
}

// isIDPrefix reports whether s names id by (a prefix of) its ID, with or
// without the algorithm, rather than by a reference.
func isIDPrefix(id digest.Digest, s string) bool {
	return strings.HasPrefix(id.String(), s) || strings.HasPrefix(id.Encoded(), s)
}

// singleReference reports whether refs amount to one name: one tag, plus
// any number of digest references of that same repository.
func singleReference(refs []imageRef) bool {
	if len(refs) <= 1 {
		return len(refs) == 1
	}
	var single reference.Named
	digestRepos := map[string]bool{}
	for _, ref := range refs {
		switch {
		case ref.canonical:
			digestRepos[ref.named.Name()] = true
		case single == nil:
			single = ref.named
		default:
			return false
		}
	}
	if single == nil {
		single = refs[0].named
	}
	return len(digestRepos) == 1 && digestRepos[single.Name()]
}

func withoutRef(refs []imageRef, target reference.Named) []imageRef {
	var out []imageRef
	for _, ref := range refs {
		if ref.named.String() != target.String() {
			out = append(out, ref)
		}
	}
	return out
}

func hasTagIn(refs []imageRef, repo string) bool {
	for _, ref := range refs {
		if !ref.canonical && ref.named.Name() == repo {
			return true
		}
	}
	return false
}
