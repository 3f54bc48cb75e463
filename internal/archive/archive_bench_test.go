package archive_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/strata-containers/strata/internal/archive"
	"github.com/strata-containers/strata/internal/archive/internal/layergen"
)

// The benchmarks unpack one generated layer (see layergen): by default
// ~200 MB (20 MB with -short, or STRATA_BENCH_LAYER_MB), made once per run
// in a temporary directory. bench/unpack.sh instead passes the layer it also
// gives GNU tar: STRATA_BENCH_LAYER=path/layer.tar, with layer.tar.gz and
// layer.tar.zst beside it. STRATA_BENCH_DIR picks the filesystem unpacked
// to (default: the system's temporary directory). Throughput is reported in
// MB of uncompressed tar per second for all three, so they compare. Every
// iteration's tree stays until the end: use a small -benchtime Nx.

var benchLayer struct {
	once sync.Once
	dir  string // generated here if not given; removed by TestMain
	path string // the uncompressed tar; .gz and .zst beside it
	size int64
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if benchLayer.dir != "" {
		os.RemoveAll(benchLayer.dir)
	}
	os.Exit(code)
}

func layerFile(b *testing.B, suffix string) (string, int64) {
	b.Helper()
	benchLayer.once.Do(func() {
		if p := os.Getenv("STRATA_BENCH_LAYER"); p != "" {
			benchLayer.path = p
		} else {
			benchLayer.err = generateLayer()
		}
		if benchLayer.err == nil {
			var fi os.FileInfo
			fi, benchLayer.err = os.Stat(benchLayer.path)
			if fi != nil {
				benchLayer.size = fi.Size()
			}
		}
	})
	if benchLayer.err != nil {
		b.Fatalf("benchmark layer: %v", benchLayer.err)
	}
	return benchLayer.path + suffix, benchLayer.size
}

func generateLayer() error {
	mb := int64(200)
	if testing.Short() {
		mb = 20
	}
	if v := os.Getenv("STRATA_BENCH_LAYER_MB"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return err
		}
		mb = n
	}
	dir, err := os.MkdirTemp("", "strata-bench-layer")
	if err != nil {
		return err
	}
	benchLayer.dir, benchLayer.path = dir, filepath.Join(dir, "layer.tar")
	f, err := os.Create(benchLayer.path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := layergen.Write(f, mb*1_000_000, 1); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	for _, c := range []archive.Compression{archive.Gzip, archive.Zstd} {
		if err := compressFile(benchLayer.path, c); err != nil {
			return err
		}
	}
	return nil
}

func compressFile(path string, c archive.Compression) error {
	in, err := os.Open(path)
	if err != nil {
		return err
	}
	defer in.Close()
	ext := ".gz"
	if c == archive.Zstd {
		ext = ".zst"
	}
	out, err := os.Create(path + ext)
	if err != nil {
		return err
	}
	defer out.Close()
	w, err := archive.Compress(out, c)
	if err != nil {
		return err
	}
	if _, err := io.Copy(w, in); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return out.Close()
}

func benchmarkApply(b *testing.B, suffix string) {
	path, size := layerFile(b, suffix)
	// Nothing is removed between iterations, nor in STRATA_BENCH_DIR at
	// all (the caller does): ext4 skips recently deleted inodes when it
	// allocates, so any unpack right after a big removal is slower.
	base := os.Getenv("STRATA_BENCH_DIR")
	if base == "" {
		base = b.TempDir()
	}
	base, err := os.MkdirTemp(base, "apply")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(size)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		b.StopTimer()
		dst := filepath.Join(base, strconv.Itoa(i))
		i++
		if err := os.Mkdir(dst, 0o755); err != nil {
			b.Fatal(err)
		}
		unix.Sync() // start on a clean disk, as bench/unpack.sh does for GNU tar
		b.StartTimer()
		unpack(b, path, dst)
	}
}

// unpack is what the layer store does with a blob: sniff, decompress, apply.
func unpack(b *testing.B, path, dst string) {
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	r, _, err := archive.Decompress(f)
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	if _, err := archive.Apply(context.Background(), dst, r, archive.ApplyOptions{}); err != nil {
		b.Fatal(err)
	}
}

func BenchmarkApplyTar(b *testing.B)  { benchmarkApply(b, "") }
func BenchmarkApplyGzip(b *testing.B) { benchmarkApply(b, ".gz") }
func BenchmarkApplyZstd(b *testing.B) { benchmarkApply(b, ".zst") }
