package cli

import (
	"bytes"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
)

// TestE2EConcurrentLoadsRemovesAndPrune runs 20 loads of different images
// (sharing a base layer, so they race to unpack it) beside removals of other
// images and prunes, all against one root. Afterwards the store must be
// consistent and hold exactly the images that should remain.
func TestE2EConcurrentLoadsRemovesAndPrune(t *testing.T) {
	s := newStore(t)
	base := layerTar(t, map[string][]byte{"base": randomBytes(100, 50_000)})
	image := func(name string, seed uint64) testImage {
		top := layerTar(t, map[string][]byte{name: randomBytes(seed, 5_000)})
		return testImage{tags: []string{name + ":1"}, layers: [][]byte{base, top}}
	}
	const loads, victims = 20, 5
	var victimImgs []testImage
	for i := range victims {
		victimImgs = append(victimImgs, image(fmt.Sprintf("victim%d", i), uint64(200+i)))
	}
	s.ok(bytes.NewReader(dockerArchive(t, victimImgs...)), "load")
	// A dangling image for the prunes to find.
	s.ok(nil, "import", writeFile(t, "d.tar", rootfs(t, "dangling")))

	var wg sync.WaitGroup
	results := make(chan string, loads+victims+2)
	launch := func(stdin []byte, args ...string) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := s.run(bytes.NewReader(stdin), args...)
			if r.code != 0 {
				results <- fmt.Sprintf("strata %v: exit %d: %s", args, r.code, r.stderr)
			}
		}()
	}
	var want []string
	for i := range loads {
		name := fmt.Sprintf("img%02d", i)
		want = append(want, name+":1")
		launch(dockerArchive(t, image(name, uint64(i))), "load")
		if i < victims {
			launch(nil, "rmi", fmt.Sprintf("victim%d:1", i))
		}
		if i%10 == 0 {
			launch(nil, "image", "prune", "-f")
		}
	}
	wg.Wait()
	close(results)
	for failure := range results {
		t.Error(failure)
	}

	r := s.run(nil, "system", "check")
	if r.code != 0 {
		t.Fatalf("system check after the storm: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	got := lines(s.ok(nil, "images", "-a", "--format", "{{.Repository}}:{{.Tag}}"))
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("images after the storm:\n%v\nwant\n%v", got, want)
	}
}

// TestE2EKillDuringLoad kills `strata load` with SIGKILL halfway through
// its input: no partial image may appear, and the next command must sweep
// what the dead writer left in the stores' temporary directories.
func TestE2EKillDuringLoad(t *testing.T) {
	s := newStore(t)
	archive := dockerArchive(t, testImage{
		tags:   []string{"big:1"},
		layers: [][]byte{layerTar(t, map[string][]byte{"big": randomBytes(7, 16<<20)})},
	})
	killMidway(t, s, archive, "load")
	// And the same archive loads in full afterwards.
	if got := s.ok(bytes.NewReader(archive), "load"); !strings.Contains(got, "Loaded image: big:1") {
		t.Fatalf("load after the kill printed %q", got)
	}
}

// TestE2EKillDuringImport is the same for `strata import` of a rootfs.
func TestE2EKillDuringImport(t *testing.T) {
	s := newStore(t)
	rootfs := layerTar(t, map[string][]byte{"bin/big": randomBytes(8, 16<<20)})
	killMidway(t, s, rootfs, "import", "-", "big:1")
	s.ok(bytes.NewReader(rootfs), "import", "-", "big:1")
	if got := s.ok(nil, "images", "--format", "{{.Repository}}:{{.Tag}}"); got != "big:1\n" {
		t.Fatalf("images after the second import: %q", got)
	}
}

// killMidway runs strata with args, feeds it the first half of input, kills
// it with SIGKILL, and checks that no image appeared, that the next command
// swept the dead writer's leftovers, that the store checks clean, and that a
// prune leaves no orphaned blob behind.
func killMidway(t *testing.T, s *store, input []byte, args ...string) {
	t.Helper()
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := s.command(pr, args...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pr.Close()
	// The pipe holds 64 KiB: once this write returns, strata has read all
	// but that much of the first half.
	if _, err := pw.Write(input[:len(input)/2]); err != nil {
		t.Fatalf("feeding strata %s: %v", args[0], err)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	pw.Close()

	temps := []string{s.root + "/content/ingest", s.root + "/layers/*/tmp"}
	if len(dirEntries(t, temps[0]))+len(dirEntries(t, temps[1])) == 0 {
		t.Fatalf("the killed %s left no ingest or unpack in progress: the kill came too late to test the sweep", args[0])
	}
	if out := s.ok(nil, "images", "-a", "-q"); out != "" {
		t.Fatalf("a killed %s left an image: %q", args[0], out)
	}
	// `images` opened every store, which sweeps dead writers' leftovers.
	for _, dir := range temps {
		if left := dirEntries(t, dir); len(left) != 0 {
			t.Errorf("leftovers in %s: %v", dir, left)
		}
	}
	if r := s.run(nil, "system", "check"); r.code != 0 {
		t.Fatalf("system check after the kill: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// Blobs committed before the kill belong to no image: a collection
	// removes them.
	s.ok(nil, "image", "prune", "-f")
	if blobs := dirEntries(t, s.root+"/content/blobs/sha256"); len(blobs) != 0 {
		t.Errorf("unreferenced blobs survived a prune: %v", blobs)
	}
}
