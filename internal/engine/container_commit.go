package engine

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/strata-containers/strata/internal/container"
	"github.com/strata-containers/strata/internal/image"
	"github.com/strata-containers/strata/internal/imagetar"
	"github.com/strata-containers/strata/internal/monitor"
	"github.com/strata-containers/strata/internal/reference"
)

// CommitOptions are the options of ContainerCommit.
type CommitOptions struct {
	Ref     string   // REPOSITORY[:TAG] to tag the image with; "" for none
	Author  string   // -a
	Message string   // -m: the history entry's comment
	Changes []string // -c: Dockerfile instructions applied to the config
	Pause   bool     // -p: freeze a running container while its layer is read
}

// ContainerCommit makes an image of a container (`docker commit`): its
// image's layers plus one new layer holding what the container changed,
// and its configuration (command, entrypoint, env, working dir, user,
// labels) with opts.Changes applied. It returns the new image's ID.
func (e *Engine) ContainerCommit(ctx context.Context, ref string, opts CommitOptions) (digest.Digest, error) {
	var named reference.Named
	if opts.Ref != "" {
		var err error
		if named, err = parseTagRef(opts.Ref); err != nil {
			return "", err
		}
	}
	c, unlock, err := e.lockedContainer(ctx, ref)
	if err != nil {
		return "", err
	}
	defer unlock()
	if opts.Pause && c.State.Status == monitor.StatusRunning {
		if err := e.pauseLocked(ctx, c); err != nil {
			return "", err
		}
		defer e.thaw(context.WithoutCancel(ctx), c)
	}
	defer e.shared()()
	parent, err := e.containerImage(ctx, c)
	if err != nil {
		return "", err
	}
	cfg := parent.config
	if err := commitConfig(&cfg, c, opts); err != nil {
		return "", err
	}
	rw, err := e.layers.GetRW(ctx, c.ID)
	if err != nil {
		return "", err
	}
	cl, err := e.commitLayer(ctx, c.ID, rw.Parent, commitOptions{})
	if err != nil {
		return "", err
	}
	cfg.RootFS.DiffIDs = append(slices.Clone(cfg.RootFS.DiffIDs), cl.DiffID)
	var names []reference.Named
	if named != nil {
		names = append(names, named)
	}
	return e.storeImage(ctx, cfg, parent, names)
}

// containerImage reads the image container c was created from.
func (e *Engine) containerImage(ctx context.Context, c container.Container) (*imageData, error) {
	img, err := e.images.Get(ctx, digest.Digest(c.Image))
	if err != nil {
		return nil, fmt.Errorf("image of container %s: %w", c.Name, err)
	}
	return e.readImage(ctx, img)
}

// commitConfig turns the image config cfg into the committed image's:
// the container's configuration, then the changes, then a history entry.
func commitConfig(cfg *image.Config, c container.Container, opts CommitOptions) error {
	ic := &cfg.Config.ImageConfig
	ic.Cmd, ic.Entrypoint = slices.Clone(c.Config.Cmd), slices.Clone(c.Config.Entrypoint)
	ic.Env, ic.WorkingDir, ic.User = slices.Clone(c.Config.Env), c.Config.WorkingDir, c.Config.User
	if len(c.Config.Labels) > 0 {
		ic.Labels = c.Config.Labels
	}
	if err := imagetar.ApplyChanges(ic, opts.Changes); err != nil {
		return err
	}
	now := time.Now().UTC()
	cfg.Created, cfg.Author = &now, opts.Author
	cfg.History = append(slices.Clone(cfg.History), ocispec.History{
		Created: &now, Author: opts.Author, Comment: opts.Message,
		CreatedBy: commandLine(c.Path, c.Args),
	})
	return nil
}
