package spec

import (
	"path/filepath"
	"sort"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/strata-containers/strata/internal/errdefs"
)

// WithMounts adds the container's own mounts (volumes, binds, tmpfs) after
// the default ones. A mount on a default mount's destination (a tmpfs on
// /dev/shm, say) replaces it, as in docker. The added mounts are sorted by
// the depth of their destination, so that a mount on /a is made before one
// on /a/b instead of hiding it; mounts of equal depth keep their order.
func WithMounts(ms []specs.Mount) Opt {
	return func(s *specs.Spec) error {
		if len(ms) == 0 {
			return nil
		}
		added := make([]specs.Mount, 0, len(ms))
		dests := map[string]bool{}
		for _, m := range ms {
			if !filepath.IsAbs(m.Destination) {
				return errdefs.Invalid("invalid mount config: mount path must be absolute: %s", m.Destination)
			}
			m.Destination = filepath.Clean(m.Destination)
			if dests[m.Destination] {
				return errdefs.Invalid("Duplicate mount point: %s", m.Destination)
			}
			dests[m.Destination] = true
			added = append(added, m)
		}
		kept := s.Mounts[:0]
		for _, m := range s.Mounts {
			if !dests[filepath.Clean(m.Destination)] {
				kept = append(kept, m)
			}
		}
		sort.SliceStable(added, func(i, j int) bool { return depth(added[i].Destination) < depth(added[j].Destination) })
		s.Mounts = append(kept, added...)
		return nil
	}
}

func depth(p string) int {
	if p == "/" {
		return 0
	}
	return strings.Count(p, "/")
}
