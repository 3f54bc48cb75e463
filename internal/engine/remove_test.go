package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/strata-containers/strata/internal/errdefs"
)

func untagged(s string) DeleteResponse       { return DeleteResponse{Untagged: s} }
func deleted(d digest.Digest) DeleteResponse { return DeleteResponse{Deleted: d.String()} }

// chainOf returns the chain ID of a one-layer image (its only layer).
func chainOf(t *testing.T, e *Engine, id digest.Digest) digest.Digest {
	t.Helper()
	img, err := e.images.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	d, err := e.readImage(context.Background(), img)
	if err != nil {
		t.Fatal(err)
	}
	return d.chainIDs[len(d.chainIDs)-1]
}

func TestRemove(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name  string
		setup func(t *testing.T, e *Engine) (arg string, opts RemoveOptions, want func(id, chain digest.Digest) []DeleteResponse)
		err   string
		left  []string // what `images` lists afterwards
	}{
		{
			name: "tag of an image with other tags only untags",
			setup: func(t *testing.T, e *Engine) (string, RemoveOptions, func(id, chain digest.Digest) []DeleteResponse) {
				importImage(t, e, "a", "busybox:latest")
				if err := e.ImageTag(ctx, "busybox", "busybox:1"); err != nil {
					t.Fatal(err)
				}
				return "busybox:latest", RemoveOptions{}, func(digest.Digest, digest.Digest) []DeleteResponse {
					return []DeleteResponse{untagged("busybox:latest")}
				}
			},
			left: []string{"busybox:1"},
		},
		{
			name: "last tag deletes the image and its layer",
			setup: func(t *testing.T, e *Engine) (string, RemoveOptions, func(id, chain digest.Digest) []DeleteResponse) {
				importImage(t, e, "a", "busybox:latest")
				return "busybox", RemoveOptions{}, func(id, chain digest.Digest) []DeleteResponse {
					return []DeleteResponse{untagged("busybox:latest"), deleted(id), deleted(chain)}
				}
			},
		},
		{
			name: "ID with one tag untags and deletes",
			setup: func(t *testing.T, e *Engine) (string, RemoveOptions, func(id, chain digest.Digest) []DeleteResponse) {
				id := importImage(t, e, "a", "busybox:latest")
				return id.Encoded()[:12], RemoveOptions{}, func(id, chain digest.Digest) []DeleteResponse {
					return []DeleteResponse{untagged("busybox:latest"), deleted(id), deleted(chain)}
				}
			},
		},
		{
			name: "ID with tags in two repositories needs force",
			setup: func(t *testing.T, e *Engine) (string, RemoveOptions, func(id, chain digest.Digest) []DeleteResponse) {
				id := importImage(t, e, "a", "busybox:latest")
				if err := e.ImageTag(ctx, "busybox", "other:1"); err != nil {
					t.Fatal(err)
				}
				return id.String(), RemoveOptions{}, nil
			},
			err:  "conflict: unable to delete %s (must be forced) - image is referenced in multiple repositories",
			left: []string{"busybox:latest", "other:1"},
		},
		{
			name: "ID with several tags and force deletes all",
			setup: func(t *testing.T, e *Engine) (string, RemoveOptions, func(id, chain digest.Digest) []DeleteResponse) {
				id := importImage(t, e, "a", "busybox:latest")
				if err := e.ImageTag(ctx, "busybox", "other:1"); err != nil {
					t.Fatal(err)
				}
				return id.String(), RemoveOptions{Force: true}, func(id, chain digest.Digest) []DeleteResponse {
					return []DeleteResponse{untagged("busybox:latest"), untagged("other:1"), deleted(id), deleted(chain)}
				}
			},
		},
		{
			name: "unknown image",
			setup: func(t *testing.T, e *Engine) (string, RemoveOptions, func(id, chain digest.Digest) []DeleteResponse) {
				return "nope", RemoveOptions{}, nil
			},
			err: "No such image: nope",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEngine(t)
			arg, opts, want := tt.setup(t, e)
			var id digest.Digest
			if img, err := e.images.Resolve(ctx, arg); err == nil {
				id = img.ID
			}
			var chain digest.Digest
			if id != "" {
				chain = chainOf(t, e, id)
			}
			got, err := e.ImageRemove(ctx, arg, opts)
			if tt.err != "" {
				wantErr := tt.err
				if id != "" {
					wantErr = fmt.Sprintf(tt.err, id.Encoded()[:12])
				}
				if err == nil || err.Error() != wantErr {
					t.Fatalf("ImageRemove error = %v, want %q", err, wantErr)
				}
			} else if err != nil {
				t.Fatalf("ImageRemove: %v", err)
			} else if w := want(id, chain); !slices.Equal(got, w) {
				t.Fatalf("ImageRemove = %v, want %v", got, w)
			}
			if left := listed(t, e, ImageListOptions{}); !slices.Equal(left, tt.left) {
				t.Fatalf("images after = %v, want %v", left, tt.left)
			}
			if len(tt.left) == 0 && (blobCount(t, e) != 0 || layerCount(t, e) != 0) {
				t.Fatalf("store not empty after the last image went: %d blobs, %d layers", blobCount(t, e), layerCount(t, e))
			}
		})
	}
}

func TestRemoveConflictClass(t *testing.T) {
	e := newEngine(t)
	id := importImage(t, e, "a", "a:1")
	if err := e.ImageTag(context.Background(), "a:1", "b:1"); err != nil {
		t.Fatal(err)
	}
	_, err := e.ImageRemove(context.Background(), id.String(), RemoveOptions{})
	if !errors.Is(err, errdefs.ErrConflict) {
		t.Fatalf("error %v is not a conflict", err)
	}
}

func TestRemoveParents(t *testing.T) {
	ctx := context.Background()
	for _, noPrune := range []bool{false, true} {
		t.Run(map[bool]string{false: "prune", true: "no-prune"}[noPrune], func(t *testing.T) {
			e := newEngine(t)
			parent := importImage(t, e, "base", "")
			child := importImage(t, e, "child", "child:1")
			setParent(t, e, child, parent)

			// A parent with a child cannot go, even forced.
			_, err := e.ImageRemove(ctx, parent.String(), RemoveOptions{Force: true})
			want := fmt.Sprintf("conflict: unable to delete %s (cannot be forced) - image has dependent child images", parent.Encoded()[:12])
			if err == nil || err.Error() != want {
				t.Fatalf("removing the parent: %v, want %q", err, want)
			}

			got, err := e.ImageRemove(ctx, "child:1", RemoveOptions{NoPrune: noPrune})
			if err != nil {
				t.Fatal(err)
			}
			gone := slices.Contains(got, deleted(parent))
			if gone == noPrune {
				t.Fatalf("parent deleted = %v with NoPrune = %v: %v", gone, noPrune, got)
			}
			_, err = e.images.Get(ctx, parent)
			if noPrune != (err == nil) {
				t.Fatalf("parent record after removal: %v", err)
			}
		})
	}
}

func TestRemoveImageUsedByContainer(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t)
	id := importImage(t, e, "a", "app:1")
	running := true
	e.imageUsers = func(context.Context) ([]ImageUse, error) {
		return []ImageUse{{ImageID: id, ContainerID: "0123456789abcdef0123", Running: running}}, nil
	}
	_, err := e.ImageRemove(ctx, id.String(), RemoveOptions{Force: true})
	want := fmt.Sprintf("conflict: unable to delete %s (cannot be forced) - image is being used by running container 0123456789ab", id.Encoded()[:12])
	if err == nil || err.Error() != want {
		t.Fatalf("running: %v, want %q", err, want)
	}
	running = false
	_, err = e.ImageRemove(ctx, "app:1", RemoveOptions{})
	want = `conflict: unable to remove repository reference "app:1" (must force) - container 0123456789ab is using its referenced image ` + id.Encoded()[:12]
	if err == nil || err.Error() != want {
		t.Fatalf("stopped: %v, want %q", err, want)
	}
	if _, err := e.ImageRemove(ctx, "app:1", RemoveOptions{Force: true}); err != nil {
		t.Fatalf("forced removal of an image of a stopped container: %v", err)
	}
}
