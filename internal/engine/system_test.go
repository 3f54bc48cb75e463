package engine

import (
	"context"
	"os"
	"strings"
	"testing"
)

func TestSystemDF(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t)
	importImage(t, e, "shared", "a:1")
	importImage(t, e, "shared", "b:1")
	importImage(t, e, "alone", "c:1")
	du, err := e.SystemDF(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(du.Images) != 3 {
		t.Fatalf("%d images, want 3", len(du.Images))
	}
	var total int64
	sizes, _ := e.layerSizes(ctx)
	for _, n := range sizes {
		total += n
	}
	if du.LayersSize != total || du.ImagesReclaimable != total {
		t.Fatalf("LayersSize %d, reclaimable %d; want both %d", du.LayersSize, du.ImagesReclaimable, total)
	}
	for _, img := range du.Images {
		if img.Size <= 0 || img.Containers != 0 {
			t.Fatalf("%v: size %d, containers %d", img.RepoTags, img.Size, img.Containers)
		}
		wantShared := img.Size // a and b share their only layer
		if img.RepoTags[0] == "c:1" {
			wantShared = 0
		}
		if img.SharedSize != wantShared {
			t.Errorf("%v: shared %d, want %d", img.RepoTags, img.SharedSize, wantShared)
		}
	}
}

func TestSystemCheck(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t)
	id := importImage(t, e, "a", "a:1")
	victim := importImage(t, e, "b", "b:1")
	if p, err := e.SystemCheck(ctx); err != nil || len(p) != 0 {
		t.Fatalf("healthy store: %v, %v", p, err)
	}

	// Corrupt a's config blob in place, and lose b's layer.
	path := e.content.Path(id)
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(`{"corrupted": true}`), 0o644); err != nil {
		t.Fatal(err)
	}
	chain := chainOf(t, e, victim)
	if err := e.layers.Remove(ctx, chain); err != nil {
		t.Fatal(err)
	}

	problems, err := e.SystemCheck(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var text []string
	for _, p := range problems {
		text = append(text, p.String())
	}
	joined := strings.Join(text, "\n")
	for _, want := range []string{
		"blob " + id.String() + ": is corrupted",
		"image b:1: " + chain.String() + " (layer) is missing from the layer store",
	} {
		if !strings.Contains(joined, want) {
			t.Errorf("problems do not mention %q:\n%s", want, joined)
		}
	}
}

func TestInspectAndHistory(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t)
	id := importImage(t, e, "a", "app:1", `CMD ["sh"]`, "ENV A=1")
	insp, err := e.ImageInspect(ctx, "app:1")
	if err != nil {
		t.Fatal(err)
	}
	if insp.ID != id.String() || len(insp.RepoTags) != 1 || insp.RepoDigests == nil {
		t.Fatalf("inspect identity: %+v", insp)
	}
	if insp.Config == nil || strings.Join(insp.Config.Cmd, " ") != "sh" || insp.Config.Env[0] != "A=1" {
		t.Fatalf("inspect config: %+v", insp.Config)
	}
	if insp.Size <= 0 || insp.RootFS.Type != "layers" || len(insp.RootFS.Layers) != 1 {
		t.Fatalf("inspect layers: size %d, rootfs %+v", insp.Size, insp.RootFS)
	}
	if e.Driver() == "overlay" {
		if dir := insp.GraphDriver.Data["UpperDir"]; dir == "" {
			t.Fatal("no UpperDir for an overlay image")
		} else if _, err := os.Stat(dir); err != nil {
			t.Fatalf("UpperDir: %v", err)
		}
	}
	hist, err := e.ImageHistory(ctx, id.Encoded()[:8])
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 1 || hist[0].ID != id.String() || hist[0].Size != insp.Size {
		t.Fatalf("history = %+v", hist)
	}
}
