package image

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/strata-containers/strata/internal/reference"
)

// TestConcurrentGoroutines runs 20 goroutines at once: 15 tag and untag
// their own tags on shared images, 5 create, tag and delete their own
// images. The end state is known exactly, so any lost update shows.
func TestConcurrentGoroutines(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	shared := []digest.Digest{
		putImage(t, s, idFrom("", "shared0"), time.Time{}).ID,
		putImage(t, s, idFrom("", "shared1"), time.Time{}).ID,
	}
	const rounds = 20
	var wg sync.WaitGroup
	errs := make(chan error, 20*rounds)
	for g := range 20 {
		wg.Go(func() {
			for i := range rounds {
				var err error
				if g < 15 {
					err = tagRound(ctx, s, g, i, shared[(g+i)%2])
				} else {
					err = ephemeralRound(ctx, s, g, i)
				}
				if err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	imgs, err := s.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(imgs) != 2 {
		t.Fatalf("%d images left, want the 2 shared ones", len(imgs))
	}
	r, err := s.readRefs()
	if err != nil {
		t.Fatal(err)
	}
	// Each tagger keeps the even rounds' tags, on the image it last used.
	if len(r) != 15*rounds/2 {
		t.Errorf("%d references left, want %d", len(r), 15*rounds/2)
	}
	for g := range 15 {
		for i := 0; i < rounds; i += 2 {
			img, err := s.Resolve(ctx, fmt.Sprintf("g%d:%d", g, i))
			if err != nil || img.ID != shared[(g+i)%2] {
				t.Errorf("g%d:%d resolves to %s, %v; want %s", g, i, img.ID, err, shared[(g+i)%2])
			}
		}
	}
}

// tagRound tags g<g>:<i>, moves it across the shared images, and untags
// it again in odd rounds.
func tagRound(ctx context.Context, s *Store, g, i int, id digest.Digest) error {
	ref, err := reference.Parse(fmt.Sprintf("g%d:%d", g, i))
	if err != nil {
		return err
	}
	if err := s.Tag(ctx, ref, id); err != nil {
		return err
	}
	if i%2 == 0 {
		return nil
	}
	got, err := s.Untag(ctx, ref)
	if err == nil && got != id {
		err = fmt.Errorf("untag %s returned %s, want %s", ref, got, id)
	}
	return err
}

// ephemeralRound creates an image, tags it twice, resolves it and deletes it.
func ephemeralRound(ctx context.Context, s *Store, g, i int) error {
	id := idFrom("", fmt.Sprintf("eph-%d-%d", g, i))
	if err := s.Put(ctx, Record{ID: id}); err != nil {
		return err
	}
	for _, name := range []string{fmt.Sprintf("e%d:%d", g, i), fmt.Sprintf("e%d:last", g)} {
		ref, err := reference.Parse(name)
		if err != nil {
			return err
		}
		if err := s.Tag(ctx, ref, id); err != nil {
			return err
		}
	}
	if img, err := s.Resolve(ctx, id.Encoded()[:16]); err != nil || img.ID != id {
		return fmt.Errorf("resolving %s: got %s, %v", id, img.ID, err)
	}
	return s.Delete(ctx, id)
}

// TestMultiProcess has 5 child processes (this test binary again) add 50
// tags each to one store at once; every tag must survive.
func TestMultiProcess(t *testing.T) {
	if root := os.Getenv("IMAGE_TEST_TAGGER_ROOT"); root != "" {
		if err := childTagger(root, os.Getenv("IMAGE_TEST_TAGGER_N")); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	root := t.TempDir()
	s, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	id := putImage(t, s, idFrom("", "target"), time.Time{}).ID
	var cmds []*exec.Cmd
	for n := range 5 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestMultiProcess$")
		cmd.Env = append(os.Environ(), "IMAGE_TEST_TAGGER_ROOT="+root, "IMAGE_TEST_TAGGER_N="+strconv.Itoa(n))
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		cmds = append(cmds, cmd)
	}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Errorf("child %d: %v", i, err)
		}
	}
	img, err := s.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if len(img.RepoTags) != 250 {
		t.Errorf("%d tags, want 250: updates were lost", len(img.RepoTags))
	}
	for n := range 5 {
		for i := range 50 {
			if _, err := s.Resolve(context.Background(), fmt.Sprintf("p%d:%d", n, i)); err != nil {
				t.Errorf("tag p%d:%d lost: %v", n, i, err)
			}
		}
	}
}

// childTagger is the child side of TestMultiProcess.
func childTagger(root, n string) error {
	s, err := Open(root)
	if err != nil {
		return err
	}
	defer s.Close()
	imgs, err := s.List(context.Background())
	if err != nil || len(imgs) != 1 {
		return fmt.Errorf("child %s: listing: %d images, %v", n, len(imgs), err)
	}
	for i := range 50 {
		ref, err := reference.Parse(fmt.Sprintf("p%s:%d", n, i))
		if err != nil {
			return err
		}
		if err := s.Tag(context.Background(), ref, imgs[0].ID); err != nil {
			return fmt.Errorf("child %s: %w", n, err)
		}
	}
	return nil
}
