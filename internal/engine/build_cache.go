package engine

import (
	"archive/tar"
	"context"
	"io"
	"time"
)

// keepBuildCache adds what the build cache refers to, each entry's layer
// chain with its parents and their layer blobs, to the GC's roots.
func (e *Engine) keepBuildCache(ctx context.Context, keep *reachable) error {
	chains, err := e.buildCacheLayers(ctx)
	if err != nil {
		return err
	}
	for _, c := range chains {
		for cur := c; cur != "" && !keep.layers[cur]; {
			info, err := e.layers.Get(ctx, cur)
			if err != nil {
				break // a gone layer: the entry is stale, builder prune drops it
			}
			keep.layers[cur] = true
			keep.blobs[info.DiffID] = true
			cur = info.Parent
		}
	}
	return nil
}

// clampTimes rewrites a layer tar so that no time in it is later than t,
// as BuildKit does for SOURCE_DATE_EPOCH: files a step wrote then carry
// the same times in every build.
func clampTimes(r io.Reader, t time.Time) *io.PipeReader {
	pr, pw := io.Pipe()
	go func() {
		pw.CloseWithError(rewriteTar(r, pw, t))
	}()
	return pr
}

func rewriteTar(r io.Reader, w io.Writer, t time.Time) error {
	tr, tw := tar.NewReader(r), tar.NewWriter(w)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if hdr.ModTime.After(t) {
			hdr.ModTime = t
		}
		// Access and change times are not kept reproducibly: drop them.
		hdr.AccessTime, hdr.ChangeTime = time.Time{}, time.Time{}
		if hdr.Format == tar.FormatGNU {
			hdr.Format = tar.FormatPAX
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if _, err := io.Copy(tw, tr); err != nil {
			return err
		}
	}
	return tw.Close()
}
