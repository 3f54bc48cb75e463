// Package config owns strata's global configuration: where the stores live,
// how much to log and which layer driver to use.
//
// A Config is resolved once per process, in this order, each step
// overriding the one before: built-in defaults, the environment (STRATA_ROOT,
// STRATA_STORAGE_DRIVER), then command-line flags, which the CLI binds to
// the fields directly. Validate is called once after the last step; after
// that the value is read-only and handed to the engine. This package is the
// only one that reads the environment, and it does so through a lookup
// function so that tests never touch the process environment.
package config

import (
	"log/slog"
	"path/filepath"
	"slices"
	"strings"

	"github.com/strata-containers/strata/internal/errdefs"
)

// Defaults.
const (
	DefaultRoot     = "/var/lib/strata"
	DefaultRunRoot  = "/run/strata"
	DefaultLogLevel = "info" // docker's default too
)

// Environment variables read by Load.
const (
	EnvRoot          = "STRATA_ROOT"
	EnvStorageDriver = "STRATA_STORAGE_DRIVER"
)

// LogLevels are the accepted values of LogLevel, least verbose last.
var LogLevels = []string{"debug", "info", "warn", "error"}

// StorageDrivers are the accepted values of StorageDriver; "" lets the
// layer store choose (overlay when the kernel supports it, else vfs).
var StorageDrivers = []string{"", "overlay", "vfs"}

// Config is the resolved configuration.
type Config struct {
	Root          string // persistent state: content, layers, images (--root)
	RunRoot       string // state that dies with the machine (--runroot)
	LogLevel      string // debug, info, warn or error (--log-level)
	StorageDriver string // overlay, vfs or "" for automatic (--storage-driver)
	UsernsRemap   string // default --userns-remap of new containers, "" for none
}

// Default returns the built-in defaults.
func Default() Config {
	return Config{Root: DefaultRoot, RunRoot: DefaultRunRoot, LogLevel: DefaultLogLevel}
}

// Load returns the defaults overridden by the environment as seen through
// lookup (os.LookupEnv in the binary). A variable set to "" counts as unset,
// as an empty root or driver name is never what the user meant.
func Load(lookup func(string) (string, bool)) Config {
	c := Default()
	if v, ok := lookup(EnvRoot); ok && v != "" {
		c.Root = v
	}
	if v, ok := lookup(EnvStorageDriver); ok && v != "" {
		c.StorageDriver = v
	}
	return c
}

// Validate checks every field and returns the first problem as an
// errdefs.ErrInvalid error naming the offending value.
func (c Config) Validate() error {
	if err := checkDir("root", c.Root); err != nil {
		return err
	}
	if err := checkDir("runroot", c.RunRoot); err != nil {
		return err
	}
	if !slices.Contains(LogLevels, c.LogLevel) {
		return errdefs.Invalid("invalid log level %q: must be one of %s", c.LogLevel, strings.Join(LogLevels, ", "))
	}
	if !slices.Contains(StorageDrivers, c.StorageDriver) {
		return errdefs.Invalid("invalid storage driver %q: must be overlay or vfs", c.StorageDriver)
	}
	return nil
}

// checkDir requires an absolute path: the stores are shared by many
// processes started from different working directories, so a relative root
// would silently name different stores.
func checkDir(what, dir string) error {
	if dir == "" {
		return errdefs.Invalid("invalid %s: empty path", what)
	}
	if !filepath.IsAbs(dir) {
		return errdefs.Invalid("invalid %s %q: must be an absolute path", what, dir)
	}
	return nil
}

// Absolute returns c with Root and RunRoot made absolute against the current
// directory, so that `--root ./x` means what the user expects.
func (c Config) Absolute() (Config, error) {
	for _, p := range []*string{&c.Root, &c.RunRoot} {
		if *p == "" || filepath.IsAbs(*p) {
			continue
		}
		abs, err := filepath.Abs(*p)
		if err != nil {
			return c, errdefs.Invalid("resolving path %q: %w", *p, err)
		}
		*p = abs
	}
	return c, nil
}

// SlogLevel returns LogLevel as a log/slog level (info if invalid).
func (c Config) SlogLevel() slog.Level {
	switch c.LogLevel {
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	}
	return slog.LevelInfo
}
