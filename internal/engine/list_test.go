package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/strata-containers/strata/internal/errdefs"
)

func TestImageListFilters(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t)
	importImage(t, e, "a", "busybox:1", "LABEL team=core")
	importImage(t, e, "b", "busybox:2")
	importImage(t, e, "c", "localhost:5000/tools/jq:1.7", "LABEL team=tools")
	dangling := importImage(t, e, "d", "")
	parent := importImage(t, e, "e", "")
	setParent(t, e, importImage(t, e, "f", "child:1"), parent)
	none := "<none>:<none>@" + dangling.String()

	tests := []struct {
		name string
		opts ImageListOptions
		want []string
	}{
		{"default hides intermediate", ImageListOptions{},
			[]string{none, "busybox:1", "busybox:2", "child:1", "localhost:5000/tools/jq:1.7"}},
		{"all shows intermediate", ImageListOptions{All: true},
			[]string{none, "<none>:<none>@" + parent.String(), "busybox:1", "busybox:2", "child:1", "localhost:5000/tools/jq:1.7"}},
		{"dangling", ImageListOptions{Filters: Filters{"dangling": {"true"}}}, []string{none}},
		{"not dangling", ImageListOptions{Filters: Filters{"dangling": {"false"}}},
			[]string{"busybox:1", "busybox:2", "child:1", "localhost:5000/tools/jq:1.7"}},
		{"reference by repository", ImageListOptions{Filters: Filters{"reference": {"busybox"}}},
			[]string{"busybox:1", "busybox:2"}},
		{"reference by tag", ImageListOptions{Filters: Filters{"reference": {"busybox:2"}}}, []string{"busybox:2"}},
		{"reference glob", ImageListOptions{Filters: Filters{"reference": {"localhost:5000/*/*"}}},
			[]string{"localhost:5000/tools/jq:1.7"}},
		{"reference glob on tag", ImageListOptions{Filters: Filters{"reference": {"*:1*"}}},
			[]string{"busybox:1", "child:1"}},
		{"label key", ImageListOptions{Filters: Filters{"label": {"team"}}},
			[]string{"busybox:1", "localhost:5000/tools/jq:1.7"}},
		{"label value", ImageListOptions{Filters: Filters{"label": {"team=tools"}}},
			[]string{"localhost:5000/tools/jq:1.7"}},
		{"before", ImageListOptions{Filters: Filters{"before": {"busybox:2"}}}, []string{"busybox:1"}},
		{"since", ImageListOptions{Filters: Filters{"since": {"localhost:5000/tools/jq:1.7"}, "dangling": {"false"}}},
			[]string{"child:1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			slices.Sort(tt.want)
			if got := listed(t, e, tt.opts); !slices.Equal(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}

	for _, bad := range []Filters{{"nope": {"x"}}, {"dangling": {"maybe"}}, {"reference": {"[x"}}, {"until": {"soon"}}} {
		if _, err := e.ImageList(ctx, ImageListOptions{Filters: bad}); !errors.Is(err, errdefs.ErrInvalid) {
			t.Errorf("filter %v: %v, want an invalid-argument error", bad, err)
		}
	}
	if _, err := e.ImageList(ctx, ImageListOptions{Filters: Filters{"nope": {"x"}}}); err == nil || err.Error() != "invalid filter 'nope'" {
		t.Errorf("unknown filter message: %v", err)
	}
}

func TestImagePrune(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t)
	keep := importImage(t, e, "a", "app:1")
	old := importImage(t, e, "b", "app:2")
	importImage(t, e, "c", "app:2") // app:2 moves; old becomes dangling
	oldChain := chainOf(t, e, old)

	rep, err := e.ImagePrune(ctx, PruneOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := []DeleteResponse{deleted(old), deleted(oldChain)}
	if !slices.Equal(rep.ImagesDeleted, want) || rep.SpaceReclaimed <= 0 {
		t.Fatalf("prune = %+v, want %v and some space", rep, want)
	}
	if got := listed(t, e, ImageListOptions{}); !slices.Equal(got, []string{"app:1", "app:2"}) {
		t.Fatalf("after prune: %v", got)
	}

	rep, err = e.ImagePrune(ctx, PruneOptions{All: true, Filters: Filters{"label!": {"nothing"}}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(rep.ImagesDeleted, deleted(keep)) || !slices.Contains(rep.ImagesDeleted, untagged("app:1")) {
		t.Fatalf("prune -a = %v", rep.ImagesDeleted)
	}
	if got := listed(t, e, ImageListOptions{All: true}); len(got) != 0 {
		t.Fatalf("after prune -a: %v", got)
	}
	if blobCount(t, e) != 0 || layerCount(t, e) != 0 {
		t.Fatalf("prune -a left %d blobs, %d layers", blobCount(t, e), layerCount(t, e))
	}
	if _, err := e.ImagePrune(ctx, PruneOptions{Filters: Filters{"reference": {"x"}}}); !errors.Is(err, errdefs.ErrInvalid) {
		t.Fatalf("prune with an unsupported filter: %v", err)
	}
}

func TestGCKeepsWhatImagesReach(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t)
	// Equal root filesystems give one layer shared by two images.
	a := importImage(t, e, "same", "a:1")
	importImage(t, e, "same", "b:1")
	if layerCount(t, e) != 1 {
		t.Fatalf("%d layers, want the one shared", layerCount(t, e))
	}
	if _, err := e.ImageRemove(ctx, "a:1", RemoveOptions{}); err != nil {
		t.Fatal(err)
	}
	if layerCount(t, e) != 1 {
		t.Fatal("the shared layer went with the first image")
	}
	if _, err := e.content.Info(ctx, a); !errdefs.IsNotFound(err) {
		t.Fatalf("config of the removed image: %v, want it collected", err)
	}
	rep, err := e.GC(ctx)
	if err != nil || len(rep.Blobs)+len(rep.Layers) != 0 {
		t.Fatalf("second GC removed %+v, %v; want nothing", rep, err)
	}
}

// BenchmarkImageList measures `images` on a store of 30 images: the cost is
// reading each record, manifest and config, and listing the layers once.
func BenchmarkImageList(b *testing.B) {
	e := newEngine(b)
	for i := range 30 {
		importImage(b, e, fmt.Sprint("seed", i), fmt.Sprintf("img%d:1", i))
	}
	ctx := context.Background()
	for b.Loop() {
		if _, err := e.ImageList(ctx, ImageListOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
