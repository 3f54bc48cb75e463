// Package dockerignore reads a build context's .dockerignore and says which
// paths of the context a build must not see, with Docker's pattern rules
// (filepath.Match per component, `**` for any number of directories, `!`
// exceptions, the last matching pattern wins), as moby/patternmatcher
// implements them. It keeps nothing on disk.
package dockerignore

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

// Load reads <dir>/.dockerignore; no file means nothing is ignored (nil).
func Load(dir string) (*patternmatcher.PatternMatcher, error) {
	f, err := os.Open(filepath.Join(dir, ".dockerignore"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading .dockerignore: %w", err)
	}
	defer f.Close()
	patterns, err := ignorefile.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("reading .dockerignore: %w", err)
	}
	return New(patterns)
}

// New compiles patterns; no patterns mean nothing is ignored (nil).
func New(patterns []string) (*patternmatcher.PatternMatcher, error) {
	if len(patterns) == 0 {
		return nil, nil
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		return nil, fmt.Errorf("invalid .dockerignore pattern: %w", err)
	}
	return pm, nil
}

// Excluded reports whether rel (a slash-separated path relative to the
// context) is excluded by pm, itself or through a parent directory.
func Excluded(pm *patternmatcher.PatternMatcher, rel string) bool {
	if pm == nil {
		return false
	}
	ok, err := pm.MatchesOrParentMatches(filepath.FromSlash(rel))
	return err == nil && ok
}

// MayHoldIncluded reports whether an excluded directory may still hold
// included paths (an exception pattern exists), so a walk must enter it.
func MayHoldIncluded(pm *patternmatcher.PatternMatcher) bool {
	return pm != nil && pm.Exclusions()
}
