// Package atomicfile writes files so that readers see either the old content
// or the new, never a mix, and a crash at any point leaves one of the two.
//
// The recipe is the classic one: write a temporary file in the same
// directory, fsync it, rename it over the target, fsync the directory.
// Temporary files are named ".tmp-<name>-<random>" so that a store can sweep
// leftovers of crashed writers (see IsTemp).
package atomicfile

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// TempPrefix starts the name of every temporary file this package creates.
const TempPrefix = ".tmp-"

// IsTemp reports whether name (a base name) is a temporary file left by a
// writer of this package.
func IsTemp(name string) bool { return strings.HasPrefix(name, TempPrefix) }

// WriteFile atomically replaces path with data.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	f, err := Create(path, perm)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Abort()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return f.Commit()
}

// File is a temporary file that becomes path on Commit.
type File struct {
	*os.File
	path string
	done bool
}

// Create opens a temporary file beside path. The caller writes to it and
// then calls Commit, or Abort to discard it; Abort after Commit is a no-op,
// so `defer f.Abort()` is the idiom.
func Create(path string, perm os.FileMode) (*File, error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, TempPrefix+base+"-*")
	if err != nil {
		return nil, fmt.Errorf("creating temporary file for %s: %w", path, err)
	}
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return nil, fmt.Errorf("chmod %s: %w", tmp.Name(), err)
	}
	return &File{File: tmp, path: path}, nil
}

// Commit syncs the file, renames it to its target and syncs the directory.
func (f *File) Commit() error {
	if f.done {
		return fmt.Errorf("commit %s: already done", f.path)
	}
	f.done = true
	name := f.Name()
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(name)
		return fmt.Errorf("sync %s: %w", name, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(name)
		return fmt.Errorf("close %s: %w", name, err)
	}
	if err := os.Rename(name, f.path); err != nil {
		os.Remove(name)
		return fmt.Errorf("rename into %s: %w", f.path, err)
	}
	return SyncDir(filepath.Dir(f.path))
}

// Abort discards the temporary file unless it was committed.
func (f *File) Abort() {
	if f.done {
		return
	}
	f.done = true
	f.Close()
	os.Remove(f.Name())
}

// SyncDir fsyncs a directory so that a rename or create inside it is durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open directory %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}

// CopyTo atomically replaces path with everything read from r and returns
// the number of bytes written.
func CopyTo(path string, r io.Reader, perm os.FileMode) (int64, error) {
	f, err := Create(path, perm)
	if err != nil {
		return 0, err
	}
	defer f.Abort()
	n, err := io.Copy(f, r)
	if err != nil {
		return n, fmt.Errorf("writing %s: %w", path, err)
	}
	return n, f.Commit()
}
