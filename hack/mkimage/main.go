// Command mkimage writes a `docker save` archive (classic layout) of one
// image with generated layers, for benchmarks and load tests:
//
//	go run ./hack/mkimage -tag big:1 -layer random:100M -layer text:100M > big.tar
//
// Layers are deterministic: the same -layer spec at the same position with
// the same -seed gives the same bytes, so images made with a common prefix
// of specs share their base layers, as images built FROM one base do. A
// layer may name its own seed (random:1M:7) to differ from its siblings.
package main

import (
	"archive/tar"
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/docker/go-units"
)

type layerSpec struct {
	kind string // random (incompressible) or text (compressible)
	size int64
	seed uint64
}

type layerFlags []layerSpec

func (l *layerFlags) String() string { return fmt.Sprint(*l) }

func (l *layerFlags) Set(v string) error {
	parts := strings.Split(v, ":")
	if len(parts) < 2 || len(parts) > 3 || (parts[0] != "random" && parts[0] != "text") {
		return fmt.Errorf("layer %q: want random:SIZE[:SEED] or text:SIZE[:SEED]", v)
	}
	n, err := units.RAMInBytes(parts[1])
	if err != nil {
		return fmt.Errorf("layer %q: %w", v, err)
	}
	spec := layerSpec{kind: parts[0], size: n}
	if len(parts) == 3 {
		if spec.seed, err = strconv.ParseUint(parts[2], 10, 64); err != nil {
			return fmt.Errorf("layer %q: seed: %w", v, err)
		}
	}
	*l = append(*l, spec)
	return nil
}

func main() {
	var layers layerFlags
	tag := flag.String("tag", "bench:latest", "repository:tag recorded in the archive")
	seed := flag.Uint64("seed", 1, "seed for the generated content")
	flag.Var(&layers, "layer", "a layer: random:SIZE[:SEED] or text:SIZE[:SEED] (repeatable, base first)")
	flag.Parse()
	if len(layers) == 0 {
		fmt.Fprintln(os.Stderr, "mkimage: give at least one -layer")
		os.Exit(2)
	}
	for i := range layers {
		if layers[i].seed == 0 {
			layers[i].seed = *seed*1000 + uint64(i)
		}
	}
	out := bufio.NewWriterSize(os.Stdout, 1<<20)
	if err := write(out, *tag, layers); err != nil {
		fmt.Fprintln(os.Stderr, "mkimage:", err)
		os.Exit(1)
	}
	if err := out.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, "mkimage:", err)
		os.Exit(1)
	}
}

func write(w io.Writer, tag string, layers []layerSpec) error {
	tw := tar.NewWriter(w)
	var diffIDs, paths []string
	for i, l := range layers {
		data := layerTar(l, i)
		sum := sha256.Sum256(data)
		hexsum := hex.EncodeToString(sum[:])
		diffIDs = append(diffIDs, "sha256:"+hexsum)
		p := hexsum + "/layer.tar"
		paths = append(paths, p)
		if err := addFile(tw, p, data); err != nil {
			return err
		}
	}
	config, err := json.Marshal(map[string]any{
		"architecture": "amd64", "os": "linux", "created": time.Unix(0, 0).UTC(),
		"config": map[string]any{"Cmd": []string{"sh"}},
		"rootfs": map[string]any{"type": "layers", "diff_ids": diffIDs},
	})
	if err != nil {
		return err
	}
	csum := sha256.Sum256(config)
	configName := hex.EncodeToString(csum[:]) + ".json"
	if err := addFile(tw, configName, config); err != nil {
		return err
	}
	manifest, _ := json.Marshal([]map[string]any{{"Config": configName, "RepoTags": []string{tag}, "Layers": paths}})
	if err := addFile(tw, "manifest.json", manifest); err != nil {
		return err
	}
	return tw.Close()
}

// layerTar holds a layer in memory: benchmarks use layers of a few hundred
// MB at most, and the digest must be known before the entry is written.
func layerTar(l layerSpec, index int) []byte {
	var buf strings.Builder
	tw := tar.NewWriter(&buf)
	rng := rand.New(rand.NewPCG(l.seed, uint64(l.size)))
	dir := fmt.Sprintf("layer%d/", index)
	tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: dir, Mode: 0o755, ModTime: time.Unix(0, 0)})
	const fileSize = 4 << 20
	for n, written := 0, int64(0); written < l.size; n++ {
		size := min(fileSize, l.size-written)
		content := make([]byte, size)
		fill(content, l.kind, rng)
		tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: fmt.Sprintf("%sf%05d", dir, n),
			Mode: 0o644, Size: size, ModTime: time.Unix(0, 0)})
		tw.Write(content)
		written += size
	}
	tw.Close()
	return []byte(buf.String())
}

func fill(b []byte, kind string, rng *rand.Rand) {
	if kind == "random" {
		for i := 0; i+8 <= len(b); i += 8 {
			v := rng.Uint64()
			for j := range 8 {
				b[i+j] = byte(v >> (8 * j))
			}
		}
		return
	}
	words := []string{"layer ", "image ", "strata ", "overlay ", "digest ", "container ", "\n"}
	for i := 0; i < len(b); {
		i += copy(b[i:], words[rng.IntN(len(words))])
	}
}

func addFile(tw *tar.Writer, name string, data []byte) error {
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644,
		Size: int64(len(data)), ModTime: time.Unix(0, 0)}); err != nil {
		return err
	}
	_, err := tw.Write(data)
	return err
}
