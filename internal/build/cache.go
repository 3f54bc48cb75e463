package build

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/opencontainers/go-digest"

	"github.com/strata-containers/strata/internal/atomicfile"
)

// Cache maps step keys to the state they produced; see the package doc.
type Cache struct {
	dir string
}

// Entry is a cached step: the config after it and the top chain ID.
type Entry struct {
	Config json.RawMessage `json:"config"`
	Chain  digest.Digest   `json:"chain,omitempty"`
}

// OpenCache opens (creating) the cache in dir.
func OpenCache(dir string) (*Cache, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("opening build cache: %w", err)
	}
	return &Cache{dir: dir}, nil
}

func (c *Cache) path(key digest.Digest) string {
	return filepath.Join(c.dir, key.Encoded()+".json")
}

// Get returns the entry of key, if any.
func (c *Cache) Get(key digest.Digest) (Entry, bool) {
	var e Entry
	data, err := os.ReadFile(c.path(key))
	if err != nil || json.Unmarshal(data, &e) != nil {
		return Entry{}, false
	}
	return e, true
}

// Put stores an entry, atomically.
func (c *Cache) Put(key digest.Digest, e Entry) error {
	data, err := json.Marshal(e)
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(c.path(key), data, 0o600)
}

// Entries lists the stored entries by key.
func (c *Cache) Entries(ctx context.Context) (map[digest.Digest]Entry, error) {
	ents, err := os.ReadDir(c.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	out := map[digest.Digest]Entry{}
	for _, de := range ents {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		name, ok := strings.CutSuffix(de.Name(), ".json")
		if !ok || atomicfile.IsTemp(de.Name()) {
			continue
		}
		key := digest.NewDigestFromEncoded(digest.SHA256, name)
		if e, ok := c.Get(key); ok {
			out[key] = e
		}
	}
	return out, nil
}

// Prune removes the entries keep does not keep (all, with keep nil) and
// stray temp files, and returns the keys of the entries that went.
func (c *Cache) Prune(ctx context.Context, keep func(Entry) bool) ([]digest.Digest, error) {
	ents, err := os.ReadDir(c.dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	var gone []digest.Digest
	for _, de := range ents {
		if err := ctx.Err(); err != nil {
			return gone, err
		}
		name, isEntry := strings.CutSuffix(de.Name(), ".json")
		if isEntry && !atomicfile.IsTemp(de.Name()) && keep != nil {
			if e, ok := c.Get(digest.NewDigestFromEncoded(digest.SHA256, name)); ok && keep(e) {
				continue
			}
		}
		if err := os.Remove(filepath.Join(c.dir, de.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return gone, err
		}
		if isEntry && !atomicfile.IsTemp(de.Name()) {
			gone = append(gone, digest.NewDigestFromEncoded(digest.SHA256, name))
		}
	}
	return gone, nil
}
