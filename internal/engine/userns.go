package engine

import (
	"bufio"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/strata-containers/strata/internal/container"
	"github.com/strata-containers/strata/internal/errdefs"
	"github.com/strata-containers/strata/internal/mount"
	"github.com/strata-containers/strata/internal/spec"
)

// UsernsOptions are create's user namespace options.
type UsernsOptions struct {
	// Mode is --userns: "host" runs in the host's user namespace even
	// when a remap is the default; "" takes Remap.
	Mode string
	// Remap is --userns-remap: "" for the engine's default (config), "default"
	// for the user dockremap, "<user>[:<group>]" for that user's ranges in
	// /etc/subuid and /etc/subgid, or "<host id>:<size>" for an explicit
	// range (uids and gids alike).
	Remap string
}

// defaultRemapUser is the user "--userns-remap default" takes its ranges
// from, as docker's.
const defaultRemapUser = "dockremap"

// Files of subordinate ids; variables so tests can point at temp copies.
var subuidFile, subgidFile = "/etc/subuid", "/etc/subgid"

// applyUserns records the user namespace of a new container.
func (e *Engine) applyUserns(rec *container.Record, o UsernsOptions) error {
	switch o.Mode {
	case "":
	case "host":
		rec.HostConfig.UsernsMode = "host"
		return nil
	default:
		return errdefs.Invalid("invalid USER mode: %s", o.Mode)
	}
	remap := o.Remap
	if remap == "" {
		remap = e.cfg.UsernsRemap
	}
	m, err := parseRemap(remap)
	if err != nil {
		return err
	}
	if !m.Remapped() {
		return nil
	}
	if rec.HostConfig.Privileged {
		return errdefs.Invalid("privileged mode is incompatible with user namespaces.  You must run the container in the host namespace when running privileged mode")
	}
	if d := e.layers.Driver(); d != "overlay" {
		return errdefs.Invalid("user namespace remapping needs the overlay storage driver, not %s", d)
	}
	rec.IDMappings = m
	return nil
}

// parseRemap resolves a --userns-remap value; nil for none.
func parseRemap(v string) (*container.IDMappings, error) {
	if v == "" {
		return nil, nil
	}
	if host, size, ok := strings.Cut(v, ":"); ok && isNumber(host) && isNumber(size) {
		r, err := idRange(host, size)
		if err != nil {
			return nil, err
		}
		return &container.IDMappings{UIDMap: r, GIDMap: r}, nil
	}
	name, group, _ := strings.Cut(v, ":")
	if name == "default" {
		name = defaultRemapUser
	}
	if group == "" {
		group = name
	}
	uids, err := subordinate(subuidFile, name, lookupUID)
	if err != nil {
		return nil, err
	}
	gids, err := subordinate(subgidFile, group, lookupGID)
	if err != nil {
		return nil, err
	}
	return &container.IDMappings{UIDMap: uids, GIDMap: gids}, nil
}

func isNumber(s string) bool {
	_, err := strconv.ParseUint(s, 10, 32)
	return err == nil
}

// idRange maps container ids 0..size-1 to host ids host.. ; host 0 would
// give the container's root the host's.
func idRange(host, size string) ([]specs.LinuxIDMapping, error) {
	h, _ := strconv.ParseUint(host, 10, 32)
	n, _ := strconv.ParseUint(size, 10, 32)
	if h == 0 || n == 0 || h+n > 1<<32-1 {
		return nil, errdefs.Invalid("userns remap %s:%s: want a non-empty range of unprivileged host ids", host, size)
	}
	return []specs.LinuxIDMapping{{ContainerID: 0, HostID: uint32(h), Size: uint32(n)}}, nil
}

// subordinate returns name's first range in a subordinate id file
// ("name-or-id:start:count" lines), as the container's 0...
func subordinate(path, name string, lookup func(string) string) ([]specs.LinuxIDMapping, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, errdefs.Invalid("userns remap %s: %w", name, err)
	}
	defer f.Close()
	id := lookup(name)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		parts := strings.Split(strings.TrimSpace(sc.Text()), ":")
		if len(parts) != 3 || (parts[0] != name && parts[0] != id) {
			continue
		}
		return idRange(parts[1], parts[2])
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return nil, errdefs.Invalid("userns remap: no subordinate ids for %q in %s (add a line such as %s:100000:65536, or give the range itself: --userns-remap 100000:65536)", name, path, name)
}

func lookupUID(name string) string {
	if u, err := user.Lookup(name); err == nil {
		return u.Uid
	}
	return "\x00" // matches no line
}

func lookupGID(name string) string {
	if g, err := user.LookupGroup(name); err == nil {
		return g.Gid
	}
	return "\x00"
}

// shiftRW gives a remapped container's writable layer to its root.
func (e *Engine) shiftRW(rec container.Record) error {
	if !rec.IDMappings.Remapped() {
		return nil
	}
	return e.layers.ShiftRW(rec.ID, rec.IDMappings.UIDMap[0].HostID, rec.IDMappings.GIDMap[0].HostID)
}

// idmapRootfs makes the image layers of a remapped container's rootfs
// appear owned by its root (idmapped lower directories), and lets its root
// reach the rootfs: the bundle's directories are 0700, root's.
func idmapRootfs(ms []mount.Mount, rec container.Record, bundle string) ([]mount.Mount, error) {
	m := rec.IDMappings
	if !m.Remapped() {
		return ms, nil
	}
	u, g := m.UIDMap[0], m.GIDMap[0]
	opt := mount.IdmapLowersOption(
		mount.IDMap{ContainerID: u.ContainerID, HostID: u.HostID, Size: u.Size},
		mount.IDMap{ContainerID: g.ContainerID, HostID: g.HostID, Size: g.Size})
	out := make([]mount.Mount, len(ms))
	for i, mt := range ms {
		out[i] = mt
		if mt.Type == "overlay" {
			out[i].Options = append(append([]string{}, mt.Options...), opt)
		}
	}
	for _, dir := range []string{filepath.Dir(filepath.Dir(bundle)), filepath.Dir(bundle), bundle} {
		if err := os.MkdirAll(dir, 0o711); err != nil {
			return nil, err
		}
		if err := os.Chmod(dir, 0o711); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func withUserns(rec container.Record) spec.Opt {
	if !rec.IDMappings.Remapped() {
		return func(*specs.Spec) error { return nil }
	}
	return spec.WithIDMappings(rec.IDMappings.UIDMap, rec.IDMappings.GIDMap)
}

// remapVolume readies volume directory path for a remapped container: its
// root must reach it (the store's directories are root's, 0700), and a new,
// empty volume becomes the container's root's, as under docker's remapped
// roots. A volume with content keeps its owners: other containers share it.
func (e *Engine) remapVolume(rec container.Record, path string) error {
	m := rec.IDMappings
	if !m.Remapped() {
		return nil
	}
	root := filepath.Clean(e.cfg.Root)
	for d := filepath.Dir(path); strings.HasPrefix(d, root+"/"); d = filepath.Dir(d) {
		st, err := os.Stat(d)
		if err != nil {
			return err
		}
		if err := os.Chmod(d, st.Mode().Perm()|0o011); err != nil {
			return err
		}
	}
	entries, err := os.ReadDir(path)
	if err != nil || len(entries) > 0 {
		return err
	}
	var st unix.Stat_t
	if err := unix.Lstat(path, &st); err != nil || st.Uid != 0 || st.Gid != 0 {
		return err
	}
	return os.Lchown(path, int(m.UIDMap[0].HostID), int(m.GIDMap[0].HostID))
}
