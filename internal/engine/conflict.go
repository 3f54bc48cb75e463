package engine

import (
	"context"
	"fmt"

	"github.com/opencontainers/go-digest"

	"github.com/strata-containers/strata/internal/errdefs"
)

// conflictMask selects which reasons to keep an image a removal checks.
// Hard conflicts cannot be forced; soft ones can.
type conflictMask int

const (
	conflictDependentChild conflictMask = 1 << iota
	conflictRunningContainer
	conflictActiveReference
	conflictStoppedContainer

	conflictHard = conflictDependentChild | conflictRunningContainer
	conflictSoft = conflictActiveReference | conflictStoppedContainer
)

// deleteConflict is a reason not to delete an image, worded as docker's.
// It is of class errdefs.ErrConflict.
type deleteConflict struct {
	id   digest.Digest
	hard bool
	used bool // a container uses the image
	msg  string
}

func (c *deleteConflict) Error() string {
	force := "must be forced"
	if c.hard {
		force = "cannot be forced"
	}
	return fmt.Sprintf("conflict: unable to delete %s (%s) - %s", shortID(c.id), force, c.msg)
}

func (c *deleteConflict) Unwrap() error { return errdefs.ErrConflict }

// orConflict returns err if set, else c as an error (never a typed nil).
func orConflict(c *deleteConflict, err error) error {
	if err != nil || c == nil {
		return err
	}
	return c
}

// conflict returns the first reason in mask to keep the image id, or nil.
func (r *remover) conflict(ctx context.Context, id digest.Digest, mask conflictMask) (*deleteConflict, error) {
	imgs, err := r.e.images.List(ctx)
	if err != nil {
		return nil, err
	}
	if mask&conflictDependentChild != 0 && len(children(imgs)[id]) > 0 {
		return &deleteConflict{id: id, hard: true, msg: "image has dependent child images"}, nil
	}
	if mask&conflictRunningContainer != 0 {
		if u, err := r.firstUse(ctx, id, runningContainer); err != nil || u != nil {
			if err != nil {
				return nil, err
			}
			return &deleteConflict{id: id, hard: true, used: true,
				msg: "image is being used by running container " + shortContainer(u.ContainerID)}, nil
		}
	}
	if mask&conflictActiveReference != 0 {
		for _, img := range imgs {
			if img.ID == id && len(img.RepoTags)+len(img.RepoDigests) > 0 {
				return &deleteConflict{id: id, msg: "image is referenced in multiple repositories"}, nil
			}
		}
	}
	if mask&conflictStoppedContainer != 0 {
		if u, err := r.firstUse(ctx, id, stoppedContainer); err != nil || u != nil {
			if err != nil {
				return nil, err
			}
			return &deleteConflict{id: id, used: true,
				msg: "image is being used by stopped container " + shortContainer(u.ContainerID)}, nil
		}
	}
	return nil, nil
}

// Which containers firstUse looks for.
func anyContainer(ImageUse) bool       { return true }
func runningContainer(u ImageUse) bool { return u.Running }
func stoppedContainer(u ImageUse) bool { return !u.Running }

// firstUse returns a container that uses the image id and passes which, or nil.
func (r *remover) firstUse(ctx context.Context, id digest.Digest, which func(ImageUse) bool) (*ImageUse, error) {
	uses, err := r.e.imageUsers(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing containers' images: %w", err)
	}
	for i, u := range uses {
		if u.ImageID == id && which(u) {
			return &uses[i], nil
		}
	}
	return nil, nil
}

// shortContainer is docker's 12-character container ID.
func shortContainer(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
