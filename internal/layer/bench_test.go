package layer

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/strata-containers/strata/internal/mount"
)

// BenchmarkRegister64MiB unpacks a 64 MiB layer (256 files of 256 KiB of
// incompressible data in 16 directories), including hashing and the syncfs
// that makes it durable.
func BenchmarkRegister64MiB(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	var entries []entry
	for d := range 16 {
		entries = append(entries, dir(fmt.Sprintf("d%02d/", d)))
		for f := range 16 {
			body := make([]byte, 256<<10)
			for i := range body {
				body[i] = byte(rng.Uint32())
			}
			entries = append(entries, file(fmt.Sprintf("d%02d/f%02d", d, f), string(body)))
		}
	}
	benchRegister(b, entries)
}

// BenchmarkRegisterSmallFiles unpacks a layer of 4096 files of 4 KiB in 64
// directories: the per-entry costs (headers, tar-split records) dominate.
func BenchmarkRegisterSmallFiles(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 4))
	var entries []entry
	for d := range 64 {
		entries = append(entries, dir(fmt.Sprintf("dir%02d/", d)))
		for f := range 64 {
			body := make([]byte, 4<<10)
			for i := range body {
				body[i] = byte(rng.Uint32())
			}
			entries = append(entries, file(fmt.Sprintf("dir%02d/file%02d", d, f), string(body)))
		}
	}
	benchRegister(b, entries)
}

// BenchmarkMountChain10 creates a writable layer over a 10-layer chain,
// mounts and unmounts it: the cost of starting a container's rootfs.
func BenchmarkMountChain10(b *testing.B) {
	for _, name := range driverNames {
		b.Run(name, func(b *testing.B) {
			s := openStore(b, name)
			ctx := context.Background()
			var parent digest.Digest
			for i := range 10 {
				parent = register(b, s, parent, dir(fmt.Sprintf("l%d/", i)), file(fmt.Sprintf("l%d/f", i), "x")).ChainID
			}
			target := filepath.Join(b.TempDir(), "rootfs")
			if err := os.Mkdir(target, 0o755); err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { mount.UnmountAll(target) })
			i := 0
			for b.Loop() {
				id := fmt.Sprintf("c%d", i)
				i++
				ms, err := s.CreateRW(ctx, id, parent)
				if err != nil {
					b.Fatal(err)
				}
				if err := mount.All(ms, target); err != nil {
					b.Fatal(err)
				}
				if err := mount.Unmount(target); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				if err := s.RemoveRW(ctx, id); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
		})
	}
}

// benchRegister registers the layer made of entries on each driver,
// removing it between iterations.
func benchRegister(b *testing.B, entries []entry) {
	tarball, diffID := makeTar(b, entries...)
	for _, name := range driverNames {
		b.Run(name, func(b *testing.B) {
			s := openStore(b, name)
			ctx := context.Background()
			b.SetBytes(int64(len(tarball)))
			for b.Loop() {
				if _, err := s.Register(ctx, "", diffID, bytes.NewReader(tarball)); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				if err := s.Remove(ctx, diffID); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
		})
	}
}
