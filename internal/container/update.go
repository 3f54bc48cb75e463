package container

import (
	"context"
	"path/filepath"

	"github.com/strata-containers/strata/internal/errdefs"
)

// Update changes container id's record with change and writes it back
// atomically; the caller holds the container's lock. A change that fails
// leaves the record as it was.
func (s *Store) Update(ctx context.Context, id string, change func(*Record) error) (Record, error) {
	if err := ctx.Err(); err != nil {
		return Record{}, err
	}
	c, err := s.load(id)
	if err != nil {
		return Record{}, err
	}
	rec := c.Record
	if err := change(&rec); err != nil {
		return c.Record, err
	}
	if err := writeJSON(filepath.Join(s.dir(id), recordName), rec); err != nil {
		return c.Record, err
	}
	return rec, nil
}

// Rename gives container id the name newName, with docker's errors; the
// caller holds the container's lock. The new name is reserved first (so
// two renames to one name cannot both win), the record written, and the
// old name released last: a crash in between leaves the container
// reachable by its old name, and at worst holding both.
func (s *Store) Rename(ctx context.Context, id, newName string) error {
	c, err := s.load(id)
	if err != nil {
		return err
	}
	old := c.Name
	if newName == old {
		return errdefs.Invalid("Renaming a container with the same name as its current name")
	}
	if err := s.reserveName(newName, id); err != nil {
		return err
	}
	if _, err := s.Update(ctx, id, func(r *Record) error { r.Name = newName; return nil }); err != nil {
		s.releaseName(newName, id)
		return err
	}
	s.releaseName(old, id)
	return nil
}
