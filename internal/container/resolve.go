package container

import (
	"context"
	"os"
	"regexp"
	"sort"
	"strings"

	"github.com/strata-containers/strata/internal/errdefs"
	"github.com/strata-containers/strata/internal/monitor"
)

var fullID = regexp.MustCompile(`^[0-9a-f]{64}$`)

// Get returns the container ref names: its full ID, its name (with or
// without docker's leading "/"), or a unique prefix of its ID, in that
// order of precedence, as docker resolves them.
func (s *Store) Get(ctx context.Context, ref string) (Container, error) {
	if err := ctx.Err(); err != nil {
		return Container{}, err
	}
	id, err := s.resolve(ref)
	if err != nil {
		return Container{}, err
	}
	c, err := s.load(id)
	if errdefs.IsNotFound(err) {
		return c, errdefs.NotFound("No such container: %s", ref)
	}
	return c, err
}

func (s *Store) resolve(ref string) (string, error) {
	if ref == "" {
		return "", errdefs.NotFound("No such container: %s", ref)
	}
	if fullID.MatchString(ref) {
		if _, err := os.Stat(s.dir(ref)); err == nil {
			return ref, nil
		}
	}
	if id, err := s.nameOwner(strings.TrimPrefix(ref, "/")); err == nil {
		if _, err := os.Stat(s.dir(id)); err == nil {
			return id, nil
		}
	}
	ids, err := s.ids()
	if err != nil {
		return "", err
	}
	var match []string
	for _, id := range ids {
		if strings.HasPrefix(id, ref) {
			match = append(match, id)
		}
	}
	switch len(match) {
	case 0:
		return "", errdefs.NotFound("No such container: %s", ref)
	case 1:
		return match[0], nil
	}
	return "", errdefs.Invalid("multiple IDs found with provided prefix: %s", ref)
}

// ids lists the container directories (complete or not).
func (s *Store) ids() ([]string, error) {
	entries, err := os.ReadDir(s.root)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, e := range entries {
		if fullID.MatchString(e.Name()) {
			ids = append(ids, e.Name())
		}
	}
	return ids, nil
}

// Orphaned lists the containers whose recorded state only a dead monitor
// leaves (running, its monitor gone; List shows them exited). It reads the
// small state files alone, not the records, so the sweep of every create
// can afford it.
func (s *Store) Orphaned(ctx context.Context) ([]string, error) {
	ids, err := s.ids()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, id := range ids {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if st, err := monitor.ReadState(s.StatePath(id)); err == nil && orphaned(st) {
			out = append(out, id)
		}
	}
	return out, nil
}

// List returns every complete container, newest first.
func (s *Store) List(ctx context.Context) ([]Container, error) {
	ids, err := s.ids()
	if err != nil {
		return nil, err
	}
	out := make([]Container, 0, len(ids))
	for _, id := range ids {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		c, err := s.load(id)
		if errdefs.IsNotFound(err) {
			continue // incomplete, or removed meanwhile
		}
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Created.After(out[j].Created) })
	return out, nil
}
