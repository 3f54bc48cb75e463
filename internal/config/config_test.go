package config

import (
	"errors"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/strata-containers/strata/internal/errdefs"
)

func env(vars map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := vars[k]
		return v, ok
	}
}

func TestLoad(t *testing.T) {
	tests := []struct {
		name string
		vars map[string]string
		want Config
	}{
		{"defaults", nil, Config{Root: DefaultRoot, RunRoot: DefaultRunRoot, LogLevel: "info"}},
		{"env root", map[string]string{EnvRoot: "/srv/strata"},
			Config{Root: "/srv/strata", RunRoot: DefaultRunRoot, LogLevel: "info"}},
		{"env driver", map[string]string{EnvStorageDriver: "vfs"},
			Config{Root: DefaultRoot, RunRoot: DefaultRunRoot, LogLevel: "info", StorageDriver: "vfs"}},
		{"empty env is unset", map[string]string{EnvRoot: ""},
			Config{Root: DefaultRoot, RunRoot: DefaultRunRoot, LogLevel: "info"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Load(env(tt.vars))
			if got != tt.want {
				t.Fatalf("Load = %+v, want %+v", got, tt.want)
			}
			if err := got.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Config)
	}{
		{"relative root", func(c *Config) { c.Root = "var/lib" }},
		{"empty root", func(c *Config) { c.Root = "" }},
		{"relative runroot", func(c *Config) { c.RunRoot = "run" }},
		{"bad level", func(c *Config) { c.LogLevel = "loud" }},
		{"bad driver", func(c *Config) { c.StorageDriver = "zfs" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			tt.change(&c)
			err := c.Validate()
			if !errors.Is(err, errdefs.ErrInvalid) {
				t.Fatalf("Validate = %v, want an invalid-argument error", err)
			}
		})
	}
}

func TestAbsolute(t *testing.T) {
	c := Default()
	c.Root = "rel/root"
	got, err := c.Absolute()
	if err != nil {
		t.Fatal(err)
	}
	if !filepath.IsAbs(got.Root) || filepath.Base(got.Root) != "root" {
		t.Fatalf("Absolute root = %q", got.Root)
	}
	if got.RunRoot != DefaultRunRoot {
		t.Fatalf("Absolute changed runroot to %q", got.RunRoot)
	}
}

func TestSlogLevel(t *testing.T) {
	for level, want := range map[string]slog.Level{
		"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError,
	} {
		if got := (Config{LogLevel: level}).SlogLevel(); got != want {
			t.Errorf("SlogLevel(%s) = %v, want %v", level, got, want)
		}
	}
}
