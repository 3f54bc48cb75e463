// Command genlayer writes the deterministic benchmark layer of package
// layergen, for bench/unpack.sh:
//
//	go run ./internal/archive/internal/genlayer -size 200 -o layer.tar
package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/strata-containers/strata/internal/archive/internal/layergen"
)

func main() {
	sizeMB := flag.Int64("size", 200, "approximate size of the layer tar, in MB")
	seed := flag.Uint64("seed", 1, "seed of the generated content")
	out := flag.String("o", "-", "output file (- for standard output)")
	flag.Parse()
	if err := run(*out, *sizeMB*1_000_000, *seed); err != nil {
		fmt.Fprintln(os.Stderr, "genlayer:", err)
		os.Exit(1)
	}
}

func run(out string, size int64, seed uint64) error {
	var w io.Writer = os.Stdout
	if out != "-" {
		f, err := os.Create(out)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
		if err := layergen.Write(w, size, seed); err != nil {
			return err
		}
		return f.Close()
	}
	return layergen.Write(w, size, seed)
}
