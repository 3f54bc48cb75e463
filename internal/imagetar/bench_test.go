package imagetar

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// benchArchive writes a classic archive of one image with four layers
// totalling mb MiB of incompressible files, and returns its path.
func benchArchive(b *testing.B, mb int) string {
	b.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	const fileSize = 1 << 20
	var layers [][]byte
	for l := range 4 {
		files := map[string]string{}
		for i := range max(1, mb/4) {
			data := make([]byte, fileSize)
			for j := 0; j < len(data); j += 8 {
				binary.LittleEndian.PutUint64(data[j:], rng.Uint64())
			}
			files[fmt.Sprintf("layer%d/file%03d", l, i)] = string(data)
		}
		layers = append(layers, layerTar(b, files))
	}
	fx := newFixture(b, "bench", []string{"bench:latest"}, layers...)
	path := filepath.Join(b.TempDir(), "bench.tar")
	if err := os.WriteFile(path, tarOf(b, classicEntries(b, fx)), 0o644); err != nil {
		b.Fatal(err)
	}
	return path
}

// BenchmarkLoad loads a 4-layer archive of STRATA_BENCH_MB MiB (default 16)
// into empty stores.
func BenchmarkLoad(b *testing.B) {
	mb := 16
	if s := os.Getenv("STRATA_BENCH_MB"); s != "" {
		var err error
		if mb, err = strconv.Atoi(s); err != nil {
			b.Fatalf("STRATA_BENCH_MB=%q: %v", s, err)
		}
	}
	path := benchArchive(b, mb)
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(fi.Size())
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		st := newStores(b)
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if _, err := Load(context.Background(), st, f); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		f.Close()
		b.StartTimer()
	}
}
