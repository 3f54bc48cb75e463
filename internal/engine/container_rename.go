package engine

import (
	"context"
	"strings"

	"github.com/strata-containers/strata/internal/errdefs"
)

// ContainerRename gives a container a new name (docker's `rename`): the
// names index changes atomically under the container's lock, and the old
// name is free once it returns.
func (e *Engine) ContainerRename(ctx context.Context, ref, newName string) error {
	newName = strings.TrimPrefix(newName, "/")
	if ref == "" || newName == "" {
		return errdefs.Invalid("Neither old nor new names may be empty")
	}
	c, err := e.containers.Get(ctx, ref)
	if err != nil {
		return err
	}
	unlock, err := e.containers.Lock(ctx, c.ID)
	if err != nil {
		return err
	}
	defer unlock()
	return e.containers.Rename(ctx, c.ID, newName)
}
