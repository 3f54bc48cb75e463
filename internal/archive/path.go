package archive

import (
	"path"
	"strings"

	"github.com/strata-containers/strata/internal/errdefs"
)

// The whiteout names of the layer format (OCI image spec, "Whiteouts").
const (
	whiteoutPrefix = ".wh."
	// whiteoutMeta starts the names of aufs bookkeeping entries
	// (".wh..wh.plnk", ".wh..wh.aufs"): they describe no file and are skipped.
	whiteoutMeta = ".wh..wh."
	opaqueMarker = ".wh..wh..opq"
)

// cleanName turns a tar entry name into a clean path relative to the target
// directory ("" is the directory itself). Absolute names and names that climb
// out with ".." are errors: stripping them silently would put the entry
// somewhere its author did not mean.
func cleanName(name string) (string, error) {
	switch {
	case name == "":
		return "", errdefs.Invalid("layer entry with an empty name")
	case name[0] == '/':
		return "", errdefs.Invalid("layer entry %q: absolute path", name)
	case strings.IndexByte(name, 0) >= 0:
		return "", errdefs.Invalid("layer entry %q: NUL byte in name", name)
	}
	p := path.Clean(name)
	if p == "." {
		return "", nil
	}
	if p == ".." || strings.HasPrefix(p, "../") {
		return "", errdefs.Invalid("layer entry %q: path escapes the target directory", name)
	}
	return p, nil
}

// split returns the parent ("" for the top level) and the last component of
// a clean relative path.
func split(p string) (parent, base string) {
	i := strings.LastIndexByte(p, '/')
	if i < 0 {
		return "", p
	}
	return p[:i], p[i+1:]
}

// join joins a clean relative parent and a component.
func join(parent, base string) string {
	if parent == "" {
		return base
	}
	return parent + "/" + base
}

// entryKind is what a name means in the layer format, before its type flag.
type entryKind int

const (
	kindFile     entryKind = iota // a file of any type, to create
	kindWhiteout                  // ".wh.<name>": delete <name>
	kindOpaque                    // ".wh..wh..opq": hide the parent's lower content
	kindSkip                      // aufs bookkeeping
)

// classify says what the clean relative path p (with parent and base from
// split) stands for, and returns for a whiteout the name it deletes.
// Whiteout names never become files: a directory component that looks like a
// whiteout would materialise one, and a whiteout of "." or ".." would delete
// the parent itself, so both are errors.
func classify(name, parent, base string) (entryKind, string, error) {
	if strings.HasPrefix(parent, whiteoutPrefix) || strings.Contains(parent, "/"+whiteoutPrefix) {
		if strings.HasPrefix(parent, whiteoutMeta) || strings.Contains(parent, "/"+whiteoutMeta) {
			return kindSkip, "", nil
		}
		return 0, "", errdefs.Invalid("layer entry %q: whiteout name used as a directory", name)
	}
	if !strings.HasPrefix(base, whiteoutPrefix) {
		return kindFile, "", nil
	}
	switch {
	case base == opaqueMarker:
		return kindOpaque, "", nil
	case strings.HasPrefix(base, whiteoutMeta):
		return kindSkip, "", nil
	}
	target := base[len(whiteoutPrefix):]
	if target == "" || target == "." || target == ".." {
		return 0, "", errdefs.Invalid("layer entry %q: whiteout of %q", name, target)
	}
	return kindWhiteout, target, nil
}
