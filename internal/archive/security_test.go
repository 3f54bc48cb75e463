package archive_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/strata-containers/strata/internal/archive"
	"github.com/strata-containers/strata/internal/errdefs"
)

// Each hostile archive is applied to base/root next to base/outside, which
// must come out untouched; nothing else may appear in base.
func TestApplyHostile(t *testing.T) {
	cases := []struct {
		name    string
		entries func(outside string) []entry
		bad     string // the entry the error must name; "" if the apply must succeed
		check   func(t *testing.T, root string)
	}{
		{"dot-dot", func(string) []entry { return []entry{reg("../x", "pwned")} }, "../x", nil},
		{"dot-dot inside", func(string) []entry { return []entry{reg("a/../../x", "pwned")} }, "a/../../x", nil},
		{"absolute", func(o string) []entry { return []entry{reg(o+"/x", "pwned")} }, "/x", nil},
		{"through absolute symlink", func(o string) []entry {
			return []entry{symlink("a", o), reg("a/passwd", "pwned")}
		}, "a/passwd", nil},
		{"through relative symlink", func(string) []entry {
			return []entry{symlink("a", "../../.."), reg("a/passwd", "pwned")}
		}, "a/passwd", nil},
		{"through symlink, deeper", func(string) []entry {
			return []entry{dir("d"), symlink("d/up", "../../outside"), reg("d/up/x/y", "pwned")}
		}, "d/up/x/y", nil},
		{"hardlink out", func(string) []entry { return []entry{hardlink("h", "../outside/secret")} }, "h", nil},
		{"hardlink absolute", func(o string) []entry { return []entry{hardlink("h", o+"/secret")} }, "h", nil},
		{"hardlink through symlink", func(string) []entry {
			return []entry{symlink("l", "../outside"), hardlink("h", "l/secret")}
		}, "h", nil},
		{"whiteout named like a directory", func(string) []entry { return []entry{reg(".wh.../x", "")} }, ".wh.../x", nil},
		{"whiteout of the parent", func(string) []entry { return []entry{dir("sub"), reg("sub/.wh...", "")} }, "sub/.wh...", nil},
		{"whiteout through symlink", func(string) []entry {
			return []entry{symlink("l", "../outside"), reg("l/.wh.secret", "")}
		}, "l/.wh.secret", nil},
		{"opaque through symlink", func(string) []entry {
			return []entry{symlink("l", "../outside"), reg("l/.wh..wh..opq", "")}
		}, "l/.wh..wh..opq", nil},
		{"symlink replaced by a directory", func(string) []entry {
			return []entry{symlink("a", "../outside"), dir("a"), reg("a/secret", "mine")}
		}, "", func(t *testing.T, root string) {
			if readFile(t, filepath.Join(root, "a/secret")) != "mine" {
				t.Error("a/secret not written into the new directory")
			}
		}},
		{"symlink replaced by a file", func(string) []entry {
			return []entry{symlink("s", "../outside/secret"), reg("s", "mine")}
		}, "", func(t *testing.T, root string) {
			if readFile(t, filepath.Join(root, "s")) != "mine" {
				t.Error("s not replaced")
			}
		}},
		{"hardlink replacing a symlink", func(string) []entry {
			return []entry{symlink("s", "../outside/secret"), reg("f", "mine"), hardlink("s", "f")}
		}, "", nil},
		{"symlink to outside is just a symlink", func(o string) []entry {
			return []entry{symlink("abs", o+"/secret"), symlink("rel", "../outside/secret")}
		}, "", nil},
	}
	for _, mode := range []archive.WhiteoutMode{archive.WhiteoutOverlay, archive.WhiteoutDelete} {
		for _, c := range cases {
			t.Run(modeName(mode)+"/"+c.name, func(t *testing.T) {
				base := t.TempDir()
				root, outside := filepath.Join(base, "root"), filepath.Join(base, "outside")
				writeFile(t, filepath.Join(outside, "secret"), "secret")
				writeFile(t, filepath.Join(outside, "sub/file"), "file")
				if err := os.Mkdir(root, 0o755); err != nil {
					t.Fatal(err)
				}
				before := listTree(t, outside, listOpts{})

				_, err := apply(t, root, buildTar(t, c.entries(outside)...), mode)
				if c.bad == "" && err != nil {
					t.Errorf("Apply: %v", err)
				}
				if c.bad != "" && (!errdefs.IsInvalid(err) || !strings.Contains(err.Error(), c.bad)) {
					t.Errorf("Apply = %v, want an invalid-argument error naming %q", err, c.bad)
				}
				diffLists(t, "files outside the target", before, listTree(t, outside, listOpts{}))
				if names, _ := readDirNames(base); !slices.Equal(names, []string{"outside", "root"}) {
					t.Errorf("base directory holds %v, want only outside and root", names)
				}
				if c.check != nil && err == nil {
					c.check(t, root)
				}
			})
		}
	}
}

func modeName(m archive.WhiteoutMode) string {
	if m == archive.WhiteoutDelete {
		return "delete"
	}
	return "overlay"
}

func readDirNames(dir string) ([]string, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	slices.Sort(names)
	return names, err
}
