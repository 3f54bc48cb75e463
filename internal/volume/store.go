package volume

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/strata-containers/strata/internal/atomicfile"
	"github.com/strata-containers/strata/internal/errdefs"
	"github.com/strata-containers/strata/internal/lockfile"
)

// DriverLocal is the only volume driver.
const DriverLocal = "local"

// LabelAnonymous marks a volume made for a container without a name (an
// image's VOLUME, `-v /path`), as docker 23+ marks it.
const LabelAnonymous = "com.docker.volume.anonymous"

const (
	metaFile = "meta.json"
	dataDir  = "_data"
)

// validName is docker's rule for local volume names.
var validName = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]+$`)

// Volume is a volume's metadata and where its content lives.
type Volume struct {
	Name       string            `json:"Name"`
	Driver     string            `json:"Driver"`
	Labels     map[string]string `json:"Labels"`
	Options    map[string]string `json:"Options"`
	CreatedAt  time.Time         `json:"CreatedAt"`
	Mountpoint string            `json:"-"` // <root>/<name>/_data
}

// Anonymous reports whether the volume was made without a name.
func (v Volume) Anonymous() bool {
	_, ok := v.Labels[LabelAnonymous]
	return ok
}

// CreateOptions are the options of Create. An empty Name makes an
// anonymous volume with a random name.
type CreateOptions struct {
	Name    string
	Driver  string
	Labels  map[string]string
	Options map[string]string
}

// Store is the volume store. It is safe for concurrent use by goroutines
// and processes.
type Store struct {
	root string
	lock *lockfile.Locker
}

// Open opens the store at root, creating it if needed, and sweeps what
// crashed creators and removers left when nobody holds the lock.
func Open(root string) (*Store, error) {
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, fmt.Errorf("creating volume store: %w", err)
	}
	lk, err := lockfile.New(filepath.Join(root, "volumes.lock"))
	if err != nil {
		return nil, err
	}
	s := &Store{root: root, lock: lk}
	if lk.TryLock() {
		s.sweep()
		lk.Unlock()
	}
	return s, nil
}

// Close releases the store's lock file.
func (s *Store) Close() error { return s.lock.Close() }

// Create makes a volume, or returns the existing one of that name (docker's
// create is idempotent).
func (s *Store) Create(ctx context.Context, opts CreateOptions) (Volume, error) {
	s.lock.RLock()
	defer s.lock.RUnlock()
	if err := Validate(&opts); err != nil {
		return Volume{}, err
	}
	if v, err := s.Get(ctx, opts.Name); err == nil || !errdefs.IsNotFound(err) {
		return v, err
	}
	return s.create(opts)
}

// Validate checks opts as Create does, filling in the default driver and a
// random name for an anonymous volume.
func Validate(opts *CreateOptions) error {
	if opts.Driver == "" {
		opts.Driver = DriverLocal
	}
	if opts.Driver != DriverLocal {
		return errdefs.NotFound("error looking up volume plugin %s: plugin %q not found", opts.Driver, opts.Driver)
	}
	if err := validateOptions(opts.Options); err != nil {
		return err
	}
	if opts.Name == "" {
		opts.Name = RandomName()
	} else if !validName.MatchString(opts.Name) {
		return errdefs.Invalid("create %s: %q includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path", opts.Name, opts.Name)
	}
	return nil
}

// Path is where the content of the volume name is (or will be).
func (s *Store) Path(name string) string { return s.dataPath(name) }

// create builds the volume under a temporary name and renames it into
// place; losing a race to another creator is not an error.
func (s *Store) create(opts CreateOptions) (Volume, error) {
	v := Volume{
		Name: opts.Name, Driver: opts.Driver, Labels: nonNil(opts.Labels), Options: nonNil(opts.Options),
		CreatedAt: time.Now().UTC().Truncate(time.Second),
	}
	tmp, err := os.MkdirTemp(s.root, atomicfile.TempPrefix+v.Name+"-")
	if err != nil {
		return Volume{}, fmt.Errorf("creating volume %s: %w", v.Name, err)
	}
	defer os.RemoveAll(tmp) // a no-op once renamed
	if err := os.Chmod(tmp, 0o701); err != nil {
		return Volume{}, err
	}
	if err := os.Mkdir(filepath.Join(tmp, dataDir), 0o755); err != nil {
		return Volume{}, fmt.Errorf("creating volume %s: %w", v.Name, err)
	}
	data, err := json.Marshal(v)
	if err != nil {
		return Volume{}, err
	}
	if err := atomicfile.WriteFile(filepath.Join(tmp, metaFile), data, 0o600); err != nil {
		return Volume{}, fmt.Errorf("creating volume %s: %w", v.Name, err)
	}
	err = os.Rename(tmp, s.dir(v.Name))
	if errors.Is(err, os.ErrExist) || errors.Is(err, unix.ENOTEMPTY) {
		return s.Get(context.Background(), v.Name) // another creator won
	}
	if err != nil {
		return Volume{}, fmt.Errorf("creating volume %s: %w", v.Name, err)
	}
	if err := atomicfile.SyncDir(s.root); err != nil {
		return Volume{}, err
	}
	v.Mountpoint = s.dataPath(v.Name)
	return v, nil
}

// Get returns the volume name.
func (s *Store) Get(_ context.Context, name string) (Volume, error) {
	if !validName.MatchString(name) {
		return Volume{}, errdefs.NotFound("get %s: no such volume", name)
	}
	data, err := os.ReadFile(filepath.Join(s.dir(name), metaFile))
	if errors.Is(err, os.ErrNotExist) {
		return Volume{}, errdefs.NotFound("get %s: no such volume", name)
	}
	if err != nil {
		return Volume{}, fmt.Errorf("reading volume %s: %w", name, err)
	}
	var v Volume
	if err := json.Unmarshal(data, &v); err != nil {
		return Volume{}, errdefs.DataLoss("reading volume %s: %w", name, err)
	}
	v.Mountpoint = s.dataPath(name)
	return v, nil
}

// List returns every volume, sorted by name.
func (s *Store) List(ctx context.Context) ([]Volume, error) {
	entries, err := os.ReadDir(s.root)
	if err != nil {
		return nil, fmt.Errorf("listing volumes: %w", err)
	}
	var out []Volume
	for _, e := range entries {
		if !e.IsDir() || atomicfile.IsTemp(e.Name()) {
			continue
		}
		v, err := s.Get(ctx, e.Name())
		if errdefs.IsNotFound(err) {
			continue // removed meanwhile
		}
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Remove removes the volume name and its content. inUse, called under the
// exclusive lock, returns the IDs of the containers that use it; a volume
// in use is docker's conflict. With force, a missing volume is no error.
func (s *Store) Remove(ctx context.Context, name string, force bool, inUse func(name string) ([]string, error)) error {
	if err := s.lock.LockContext(ctx); err != nil {
		return err
	}
	defer s.lock.Unlock()
	return s.removeLocked(ctx, name, force, inUse)
}

func (s *Store) removeLocked(ctx context.Context, name string, force bool, inUse func(string) ([]string, error)) error {
	if _, err := s.Get(ctx, name); err != nil {
		if force && errdefs.IsNotFound(err) {
			return nil
		}
		return err
	}
	users, err := inUse(name)
	if err != nil {
		return err
	}
	if len(users) > 0 {
		return errdefs.Conflict("remove %s: volume is in use - [%s]", name, strings.Join(users, ", "))
	}
	if err := s.unmount(name); err != nil {
		return err
	}
	tmp := filepath.Join(s.root, atomicfile.TempPrefix+name+"-rm-"+RandomName()[:8])
	if err := os.Rename(s.dir(name), tmp); err != nil {
		return fmt.Errorf("removing volume %s: %w", name, err)
	}
	if err := os.RemoveAll(tmp); err != nil {
		return fmt.Errorf("removing volume %s: %w", name, err)
	}
	return nil
}

// Prune removes every volume keep does not keep and that is not in use,
// under one exclusive lock, and returns the removed volumes.
func (s *Store) Prune(ctx context.Context, keep func(Volume) bool, inUse func(string) ([]string, error)) ([]Volume, error) {
	if err := s.lock.LockContext(ctx); err != nil {
		return nil, err
	}
	defer s.lock.Unlock()
	vols, err := s.List(ctx)
	if err != nil {
		return nil, err
	}
	var removed []Volume
	for _, v := range vols {
		if keep(v) {
			continue
		}
		err := s.removeLocked(ctx, v.Name, true, inUse)
		if errdefs.IsConflict(err) {
			continue
		}
		if err != nil {
			return removed, err
		}
		removed = append(removed, v)
	}
	return removed, nil
}

// sweep removes the temporary directories of dead creators and removers;
// the caller holds the lock exclusively, so no live one exists.
func (s *Store) sweep() {
	entries, err := os.ReadDir(s.root)
	if err != nil {
		return
	}
	for _, e := range entries {
		if e.IsDir() && atomicfile.IsTemp(e.Name()) {
			p := filepath.Join(s.root, e.Name())
			_ = unmountIfMounted(filepath.Join(p, dataDir))
			_ = os.RemoveAll(p)
		}
	}
}

func (s *Store) dir(name string) string      { return filepath.Join(s.root, name) }
func (s *Store) dataPath(name string) string { return filepath.Join(s.root, name, dataDir) }

// RandomName is a name for an anonymous volume: 64 hex digits, as docker's.
func RandomName() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func nonNil(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}
