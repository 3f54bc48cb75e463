package engine

import (
	"context"
	"io/fs"
	"path/filepath"
	"regexp"
	"sort"
	"time"

	"github.com/strata-containers/strata/internal/volume"
)

// Volume is `docker volume inspect` of a volume, in docker's shape.
type Volume struct {
	CreatedAt  string
	Driver     string
	Labels     map[string]string
	Mountpoint string
	Name       string
	Options    map[string]string
	Scope      string
	// Links counts the containers that use the volume (ls's {{.Links}});
	// not part of inspect.
	Links int `json:"-"`
	// Size is the bytes in the volume, for `system df` only (-1 when not
	// measured, as docker's).
	Size int64 `json:"-"`
}

func inspectVolume(v volume.Volume, links int) Volume {
	out := Volume{
		CreatedAt: v.CreatedAt.Local().Format(time.RFC3339), Driver: v.Driver, Labels: v.Labels,
		Mountpoint: v.Mountpoint, Name: v.Name, Options: v.Options, Scope: "local", Links: links, Size: -1,
	}
	// docker shows null, not {}, for a volume without labels or options.
	if len(out.Labels) == 0 {
		out.Labels = nil
	}
	if len(out.Options) == 0 {
		out.Options = nil
	}
	return out
}

// VolumeCreateOptions are `volume create`'s options.
type VolumeCreateOptions struct {
	Name    string // empty: a random name, as docker gives
	Driver  string
	Labels  map[string]string
	Options map[string]string
}

// VolumeCreate creates a volume, or returns the one of that name.
func (e *Engine) VolumeCreate(ctx context.Context, opts VolumeCreateOptions) (Volume, error) {
	v, err := e.volumes.Create(ctx, volume.CreateOptions(opts))
	if err != nil {
		return Volume{}, err
	}
	return inspectVolume(v, 0), nil
}

// VolumeInspect returns the volume name.
func (e *Engine) VolumeInspect(ctx context.Context, name string) (Volume, error) {
	v, err := e.volumes.Get(ctx, name)
	if err != nil {
		return Volume{}, err
	}
	users, err := e.volumeUsers(ctx)
	if err != nil {
		return Volume{}, err
	}
	return inspectVolume(v, len(users[name])), nil
}

// VolumeList lists the volumes that pass filters (dangling, driver, label,
// label!, name), sorted by name.
func (e *Engine) VolumeList(ctx context.Context, filters Filters) ([]Volume, error) {
	if err := filters.check("dangling", "driver", "label", "label!", "name"); err != nil {
		return nil, err
	}
	dangling, danglingSet, err := filters.boolean("dangling")
	if err != nil {
		return nil, err
	}
	vols, err := e.volumes.List(ctx)
	if err != nil {
		return nil, err
	}
	users, err := e.volumeUsers(ctx)
	if err != nil {
		return nil, err
	}
	out := []Volume{}
	for _, v := range vols {
		n := len(users[v.Name])
		if danglingSet && (n == 0) != dangling {
			continue
		}
		if !filters.matchLabels(v.Labels) || !matchAny(filters["name"], v.Name) || !matchAny(filters["driver"], v.Driver) {
			continue
		}
		out = append(out, inspectVolume(v, n))
	}
	return out, nil
}

// matchAny reports whether s matches one of the patterns (regular
// expressions, as docker's name filter takes; a bad one matches itself
// literally), or there are none.
func matchAny(patterns []string, s string) bool {
	if len(patterns) == 0 {
		return true
	}
	for _, p := range patterns {
		if re, err := regexp.Compile(p); err == nil && re.MatchString(s) || p == s {
			return true
		}
	}
	return false
}

// VolumeRemove removes the volume name unless a container uses it (docker's
// "volume is in use" conflict). With force, a missing volume is no error.
func (e *Engine) VolumeRemove(ctx context.Context, name string, force bool) error {
	return e.volumes.Remove(ctx, name, force, e.volumeUsersOf(ctx))
}

// VolumePruneOptions are `volume prune`'s options.
type VolumePruneOptions struct {
	All     bool // named volumes too, not only anonymous ones
	Filters Filters
}

// VolumePruneReport lists the volumes a prune removed and the bytes freed.
type VolumePruneReport struct {
	VolumesDeleted []string
	SpaceReclaimed int64
}

// VolumePrune removes the volumes no container uses: anonymous ones, or
// all with opts.All (docker 23+'s rule), that pass the label filters.
func (e *Engine) VolumePrune(ctx context.Context, opts VolumePruneOptions) (VolumePruneReport, error) {
	var rep VolumePruneReport
	if err := opts.Filters.check("label", "label!", "all"); err != nil {
		return rep, err
	}
	all, allSet, err := opts.Filters.boolean("all")
	if err != nil {
		return rep, err
	}
	all = all && allSet || opts.All
	sizes := map[string]int64{}
	keep := func(v volume.Volume) bool {
		if (!all && !v.Anonymous()) || !opts.Filters.matchLabels(v.Labels) {
			return true
		}
		sizes[v.Name] = dirSize(v.Mountpoint)
		return false
	}
	removed, err := e.volumes.Prune(ctx, keep, e.volumeUsersOf(ctx))
	for _, v := range removed {
		rep.VolumesDeleted = append(rep.VolumesDeleted, v.Name)
		rep.SpaceReclaimed += sizes[v.Name]
	}
	return rep, err
}

// volumeUsage is every volume with its Links and Size, for `system df`.
func (e *Engine) volumeUsage(ctx context.Context) ([]Volume, error) {
	vols, err := e.VolumeList(ctx, Filters{})
	for i := range vols {
		vols[i].Size = dirSize(vols[i].Mountpoint)
	}
	return vols, err
}

// volumeUsers maps each volume that a container record names to the IDs of
// those containers. It is the only source of "in use": a record is written
// before its container can use a volume and removed after, so a crash
// cannot leave the answer wrong.
func (e *Engine) volumeUsers(ctx context.Context) (map[string][]string, error) {
	cs, err := e.containers.List(ctx)
	if err != nil {
		return nil, err
	}
	users := map[string][]string{}
	for _, c := range cs {
		for _, m := range c.Mounts {
			if m.Type == "volume" {
				users[m.Name] = append(users[m.Name], c.ID)
			}
		}
	}
	for _, ids := range users {
		sort.Strings(ids)
	}
	return users, nil
}

func (e *Engine) volumeUsersOf(ctx context.Context) func(string) ([]string, error) {
	return func(name string) ([]string, error) {
		users, err := e.volumeUsers(ctx)
		return users[name], err
	}
}

// dirSize is the bytes of the regular files under dir (what docker's
// volume usage counts); unreadable parts count nothing.
func dirSize(dir string) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}
