package dockerignore

import (
	"os"
	"path/filepath"
	"testing"
)

func TestExcluded(t *testing.T) {
	dir := t.TempDir()
	rules := "# comment\nnode_modules\n**/*.log\n!keep/important.log\n/build/\n*.tmp\n"
	if err := os.WriteFile(filepath.Join(dir, ".dockerignore"), []byte(rules), 0o644); err != nil {
		t.Fatal(err)
	}
	pm, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]bool{
		"node_modules":        true,
		"node_modules/x/y.js": true, // through its parent
		"a.log":               true,
		"deep/down/b.log":     true,
		"keep/important.log":  false, // the exception wins: it comes last
		"keep/other.log":      true,
		"build":               true,
		"build/out":           true,
		"src/build":           false, // a leading / anchors nothing more than no slash: root only
		"x.tmp":               true,
		"dir/x.tmp":           false, // * does not cross directories
		"src/main.go":         false,
		"Dockerfile":          false,
	} {
		if got := Excluded(pm, path); got != want {
			t.Errorf("Excluded(%q) = %v, want %v", path, got, want)
		}
	}
	if !MayHoldIncluded(pm) {
		t.Error("an exception pattern exists, but MayHoldIncluded says no")
	}
}

func TestNoFile(t *testing.T) {
	pm, err := Load(t.TempDir())
	if err != nil || pm != nil {
		t.Fatalf("Load without .dockerignore = %v, %v; want nil, nil", pm, err)
	}
	if Excluded(nil, "anything") {
		t.Error("nil matcher excluded a path")
	}
}
