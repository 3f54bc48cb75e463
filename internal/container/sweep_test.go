package container

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestSweepTornRecord: an --rm container's record is written without
// fsync; one a power loss left empty is swept once its lock is free, with
// the names that pointed to it, while a live creator's is kept.
func TestSweepTornRecord(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	c, err := s.Create(ctx, Record{Name: "torn", HostConfig: HostConfig{AutoRemove: true}})
	if err != nil {
		t.Fatal(err)
	}
	id := c.Record().ID
	if err := os.Remove(filepath.Join(s.dir(id), incompleteName)); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(filepath.Join(s.dir(id), recordName), 0); err != nil {
		t.Fatal(err)
	}
	if swept, _ := s.Sweep(ctx); len(swept) != 0 {
		t.Fatalf("swept a live creation: %v", swept)
	}
	c.release()
	swept, err := s.Sweep(ctx)
	if err != nil || len(swept) != 1 || swept[0] != id {
		t.Fatalf("Sweep: %v, %v", swept, err)
	}
	if s.Holds(id) {
		t.Errorf("directory of %s left", id)
	}
	if entries, _ := os.ReadDir(filepath.Join(s.root, "names")); len(entries) != 0 {
		t.Errorf("names left: %v", entries)
	}
	create(t, s, "torn")
}
