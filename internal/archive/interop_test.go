package archive_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strata-containers/strata/internal/archive"
	"github.com/strata-containers/strata/internal/testutil"
)

// withoutOpaque drops overlay's opaque mark from a listing: a tar of a whole
// tree does not carry overlay's private xattrs.
func withoutOpaque(lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = strings.Replace(l, "trusted.overlay.opaque=79", "", 1)
	}
	return out
}

// GNU tar is the reference implementation: what it packs, Apply must unpack
// to the same tree, and what WriteTree packs, GNU tar must unpack.
func TestInteropGNUTar(t *testing.T) {
	gnutar := testutil.RequireBinary(t, "tar")
	src := richTree(t)
	want := withoutOpaque(listTree(t, src, listOpts{}))
	xattrFlags := []string{"--xattrs", "--xattrs-include=*", "--numeric-owner"}

	t.Run("gnu tar to Apply", func(t *testing.T) {
		archivePath := filepath.Join(t.TempDir(), "layer.tar")
		args := append([]string{"--format=pax", "-C", src, "-cf", archivePath}, xattrFlags...)
		testutil.Run(t, gnutar, append(args, ".")...)
		f, err := os.Open(archivePath)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		dst := t.TempDir()
		if _, err := archive.Apply(context.Background(), dst, f, archive.ApplyOptions{}); err != nil {
			t.Fatalf("Apply of GNU tar's archive: %v", err)
		}
		diffLists(t, "GNU tar then Apply", want, listTree(t, dst, listOpts{}))
	})

	t.Run("WriteTree to gnu tar", func(t *testing.T) {
		var buf bytes.Buffer
		if err := archive.WriteTree(context.Background(), &buf, src); err != nil {
			t.Fatal(err)
		}
		dst := t.TempDir()
		cmd := exec.Command(gnutar, append([]string{"-C", dst, "-xpf", "-"}, xattrFlags...)...)
		cmd.Stdin = &buf
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("GNU tar could not extract WriteTree's archive: %v\n%s", err, out)
		}
		diffLists(t, "WriteTree then GNU tar", want, listTree(t, dst, listOpts{}))
	})
}
