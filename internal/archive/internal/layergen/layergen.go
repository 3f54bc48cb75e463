// Package layergen writes deterministic layer tars for benchmarks: the
// same size and seed always give the same bytes, so a script timing GNU tar
// and a Go benchmark timing archive.Apply can unpack the very same layer.
//
// A layer mixes what real images hold: 60% of the bytes in large
// incompressible files (8 MiB, like binaries and compressed assets) and the
// rest in many small text files (0.5–12 KiB, like sources and configs), 100
// to a directory, plus a symlink and a hardlink per directory.
package layergen

import (
	"archive/tar"
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"time"
)

const (
	bigFile     = 8 << 20
	bigShare    = 0.6
	filesPerDir = 100
)

// mtime is every entry's modification time: fixed, whole seconds (plain
// ustar headers, as most layers have).
var mtime = time.Unix(1700000000, 0)

var words = []string{
	"func", "return", "package", "import", "config", "server", "client", "error", "value", "string",
	"layer", "image", "container", "the", "a", "of", "and", "to", "in", "is", "for", "with", "on",
	"=", "{", "}", "(", ")", "if", "else", "true", "false", "nil", "0", "1", "42", "//", "#", "path",
	"/usr/lib", "/etc", "version", "name", "description", "license", "MIT", "Apache-2.0", "data",
}

// Write writes a layer tar of about size bytes to w.
func Write(w io.Writer, size int64, seed uint64) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	tw := tar.NewWriter(bw)
	g := &gen{tw: tw, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), chacha: rand.NewChaCha8([32]byte{byte(seed)})}
	if err := g.bigFiles(int64(float64(size) * bigShare)); err != nil {
		return err
	}
	if err := g.smallFiles(size - int64(float64(size)*bigShare)); err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return bw.Flush()
}

type gen struct {
	tw     *tar.Writer
	rng    *rand.Rand
	chacha *rand.ChaCha8
	buf    []byte
}

func (g *gen) header(h *tar.Header) error {
	h.ModTime = mtime
	if h.Mode == 0 {
		h.Mode = 0o644
	}
	return g.tw.WriteHeader(h)
}

func (g *gen) bigFiles(total int64) error {
	if err := g.header(&tar.Header{Typeflag: tar.TypeDir, Name: "opt/blobs/", Mode: 0o755}); err != nil {
		return err
	}
	g.buf = make([]byte, bigFile)
	for i := 0; total > 0; i++ {
		n := min(total, bigFile)
		_, _ = g.chacha.Read(g.buf[:n])
		h := &tar.Header{Typeflag: tar.TypeReg, Name: fmt.Sprintf("opt/blobs/blob-%03d.bin", i), Size: n, Mode: 0o755}
		if err := g.header(h); err != nil {
			return err
		}
		if _, err := g.tw.Write(g.buf[:n]); err != nil {
			return err
		}
		total -= n
	}
	return nil
}

func (g *gen) smallFiles(total int64) error {
	for d := 0; total > 0; d++ {
		dir := fmt.Sprintf("usr/share/pkg%03d/sub%02d/", d/10, d%10)
		if err := g.header(&tar.Header{Typeflag: tar.TypeDir, Name: dir, Mode: 0o755}); err != nil {
			return err
		}
		for f := 0; f < filesPerDir && total > 0; f++ {
			n := min(total, int64(512+g.rng.IntN(12<<10)))
			if err := g.textFile(fmt.Sprintf("%sfile%03d.txt", dir, f), n); err != nil {
				return err
			}
			total -= n
		}
		if err := g.header(&tar.Header{Typeflag: tar.TypeSymlink, Name: dir + "link", Linkname: "file000.txt", Mode: 0o777}); err != nil {
			return err
		}
		if err := g.header(&tar.Header{Typeflag: tar.TypeLink, Name: dir + "hardlink", Linkname: dir + "file000.txt"}); err != nil {
			return err
		}
	}
	return nil
}

func (g *gen) textFile(name string, n int64) error {
	text := g.buf[:0]
	for int64(len(text)) < n {
		text = append(text, words[g.rng.IntN(len(words))]...)
		if g.rng.IntN(10) == 0 {
			text = append(text, '\n')
		} else {
			text = append(text, ' ')
		}
	}
	if err := g.header(&tar.Header{Typeflag: tar.TypeReg, Name: name, Size: n}); err != nil {
		return err
	}
	_, err := g.tw.Write(text[:n])
	return err
}
