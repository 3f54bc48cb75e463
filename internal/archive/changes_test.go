package archive_test

import (
	"bytes"
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/strata-containers/strata/internal/archive"
)

// copyTree copies src to a new directory with WriteTree and Apply.
func copyTree(t *testing.T, src string) string {
	t.Helper()
	var buf bytes.Buffer
	if err := archive.WriteTree(context.Background(), &buf, src); err != nil {
		t.Fatal(err)
	}
	dst := t.TempDir()
	mustApply(t, dst, buf.Bytes(), archive.WhiteoutDelete)
	return dst
}

func TestWriteChanges(t *testing.T) {
	uid, gid := os.Geteuid(), os.Getegid()
	lower := tree{t, t.TempDir()}
	for _, d := range []string{"etc", "old/sub", "dirToFile/x"} {
		lower.dir(d, 0o755, uid, gid)
	}
	for _, f := range []string{"etc/group", "etc/hosts", "etc/passwd", "etc/removed", "etc/shadow",
		"old/sub/f", "dirToFile/x/f", "fileToDir", "same", "xa"} {
		lower.file(f, []byte(f), 0o644, uid, gid)
	}
	lower.symlink("link", "same", uid, gid)
	lower.touchAll()

	upper := tree{t, copyTree(t, lower.root)}
	diffLists(t, "copied trees", listTree(t, lower.root, listOpts{}), listTree(t, upper.root, listOpts{}))
	upper.check(os.WriteFile(upper.p("etc/passwd"), []byte("root:x:0:0\n"), 0o644))
	upper.check(os.Chmod(upper.p("etc/shadow"), 0o600))
	later := time.Unix(1800000000, 5)
	upper.check(os.Chtimes(upper.p("etc/hosts"), later, later))
	upper.check(os.Remove(upper.p("etc/removed")))
	upper.check(os.RemoveAll(upper.p("old")))
	upper.check(os.Remove(upper.p("fileToDir")))
	upper.dir("fileToDir", 0o755, uid, gid)
	upper.file("fileToDir/child", []byte("c"), 0o644, uid, gid)
	upper.check(os.RemoveAll(upper.p("dirToFile")))
	upper.file("dirToFile", []byte("now a file"), 0o644, uid, gid)
	upper.check(os.Remove(upper.p("link")))
	upper.symlink("link", "etc/group", uid, gid)
	upper.xattr("xa", "user.tag", "v")
	upper.dir("new", 0o755, uid, gid)
	upper.file("new/file", []byte("n"), 0o644, uid, gid)
	upper.check(os.Link(upper.p("new/file"), upper.p("new/link")))

	var buf bytes.Buffer
	if err := archive.WriteChanges(context.Background(), &buf, lower.root, upper.root); err != nil {
		t.Fatalf("WriteChanges: %v", err)
	}
	want := []string{"0 dirToFile", "5 etc/", "0 etc/hosts", "0 etc/passwd", "0 etc/.wh.removed", "0 etc/shadow",
		"5 fileToDir/", "0 fileToDir/child", "2 link", "5 new/", "0 new/file", "1 new/link", "0 .wh.old", "0 xa"}
	if got := tarNames(t, buf.Bytes()); !slices.Equal(got, want) {
		t.Errorf("WriteChanges entries:\n got %s\nwant %s", strings.Join(got, ", "), strings.Join(want, ", "))
	}
	var again bytes.Buffer
	if err := archive.WriteChanges(context.Background(), &again, lower.root, upper.root); err != nil || !bytes.Equal(again.Bytes(), buf.Bytes()) {
		t.Errorf("WriteChanges is not reproducible (%v)", err)
	}

	// Applied on a copy of lower, the changes give upper back.
	applied := copyTree(t, lower.root)
	mustApply(t, applied, buf.Bytes(), archive.WhiteoutDelete)
	diffLists(t, "lower + changes vs upper", listTree(t, upper.root, listOpts{}), listTree(t, applied, listOpts{}))
}

func TestWriteChangesIdentical(t *testing.T) {
	lower := tree{t, t.TempDir()}
	lower.dir("d", 0o755, os.Geteuid(), os.Getegid())
	lower.file("d/f", []byte("f"), 0o644, os.Geteuid(), os.Getegid())
	lower.touchAll()
	var buf bytes.Buffer
	if err := archive.WriteChanges(context.Background(), &buf, lower.root, copyTree(t, lower.root)); err != nil {
		t.Fatal(err)
	}
	if names := tarNames(t, buf.Bytes()); len(names) != 0 {
		t.Errorf("identical trees gave entries %v", names)
	}
}
