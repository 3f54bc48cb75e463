package engine

import (
	"archive/tar"
	"context"
	"errors"
	"io"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/strata-containers/strata/internal/container"
)

// A remapped container's files are the host range's on disk (its writable
// layer) or through its idmapped rootfs. Its commits and exports must hold
// the ids the container saw, as docker's do: the tars are rewritten on the
// way out, an id in the range going back to the container's, any other
// (host root's image files, seen without idmapping) left as it is.

// unshiftedChanges is changesTar of rwID with the owners a remapped
// container saw; the tar unchanged for any other writable layer.
func (e *Engine) unshiftedChanges(ctx context.Context, rwID string, tr io.ReadCloser) io.ReadCloser {
	c, err := e.containers.Get(ctx, rwID)
	if err != nil || !c.IDMappings.Remapped() {
		return tr
	}
	return unshiftTar(tr, c.IDMappings)
}

// unshiftedWriter returns a writer that passes a tar to w with the owners
// of container c's namespace, and a wait that flushes it and returns the
// first error.
func unshiftedWriter(c container.Container, w io.Writer) (io.Writer, func(error) error) {
	if !c.IDMappings.Remapped() {
		return w, func(err error) error { return err }
	}
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := rewriteOwners(pr, w, c.IDMappings)
		pr.CloseWithError(err)
		done <- err
	}()
	return pw, func(err error) error {
		pw.CloseWithError(err)
		return errors.Join(err, <-done)
	}
}

type unshiftReader struct {
	*io.PipeReader
	src io.ReadCloser
}

// Close stops both the rewriter and the source's writer.
func (r unshiftReader) Close() error {
	r.src.Close()
	return r.PipeReader.Close()
}

func unshiftTar(src io.ReadCloser, m *container.IDMappings) io.ReadCloser {
	pr, pw := io.Pipe()
	go func() {
		err := rewriteOwners(src, pw, m)
		src.Close()
		pw.CloseWithError(err)
	}()
	return unshiftReader{PipeReader: pr, src: src}
}

func rewriteOwners(r io.Reader, w io.Writer, m *container.IDMappings) error {
	tr := tar.NewReader(r)
	tw := tar.NewWriter(w)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return tw.Close()
		}
		if err != nil {
			return err
		}
		hdr.Uid = toContainer(hdr.Uid, m.UIDMap)
		hdr.Gid = toContainer(hdr.Gid, m.GIDMap)
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if _, err := io.Copy(tw, tr); err != nil {
			return err
		}
	}
}

// toContainer maps a host id to the container's through ms; ids outside
// every range are kept.
func toContainer(id int, ms []specs.LinuxIDMapping) int {
	for _, m := range ms {
		if id >= int(m.HostID) && id < int(m.HostID)+int(m.Size) {
			return id - int(m.HostID) + int(m.ContainerID)
		}
	}
	return id
}
