package registry

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// BlobSource opens a blob to upload; called again for each attempt, so it
// must return a fresh reader from the start every time.
type BlobSource func(ctx context.Context) (io.ReadCloser, error)

// HasBlob reports whether the repository has the blob (HEAD).
func (r *Repo) HasBlob(ctx context.Context, d digest.Digest) (bool, error) {
	resp, err := r.h.do(ctx, &request{method: http.MethodHead, path: "/v2/" + r.name + "/blobs/" + d.String(), scopes: r.scopes})
	if err != nil {
		return false, fmt.Errorf("checking blob %s: %w", d, err)
	}
	switch resp.StatusCode {
	case http.StatusOK:
		drain(resp)
		return true, nil
	case http.StatusNotFound:
		drain(resp)
		return false, nil
	}
	return false, statusError(resp, "checking blob "+d.String())
}

// MountBlob asks the registry to link the blob from another of its
// repositories. It returns false (and no error) when the registry started
// an upload instead, which is then cancelled: the caller uploads.
func (r *Repo) MountBlob(ctx context.Context, d digest.Digest, from string) (bool, error) {
	q := url.Values{"mount": {d.String()}, "from": {from}}
	resp, err := r.h.do(ctx, &request{method: http.MethodPost, path: "/v2/" + r.name + "/blobs/uploads/?" + q.Encode(), scopes: r.scopes})
	if err != nil {
		return false, fmt.Errorf("mounting blob %s from %s: %w", d, from, err)
	}
	switch resp.StatusCode {
	case http.StatusCreated:
		drain(resp)
		return true, nil
	case http.StatusAccepted:
		loc, err := r.location(resp)
		drain(resp)
		if err == nil {
			r.cancelUpload(ctx, loc)
		}
		return false, nil
	}
	return false, statusError(resp, "mounting blob "+d.String())
}

// PushBlob uploads the blob desc names from src: in one PUT, or in
// PATCH chunks of Options.ChunkSize when that is set and the blob is larger.
func (r *Repo) PushBlob(ctx context.Context, desc ocispec.Descriptor, src BlobSource) error {
	loc, err := r.startUpload(ctx)
	if err != nil {
		return fmt.Errorf("pushing blob %s: %w", desc.Digest, err)
	}
	if cs := r.c.opts.ChunkSize; cs > 0 && desc.Size > cs {
		loc, err = r.uploadChunks(ctx, loc, desc, src, cs)
		if err != nil {
			r.cancelUpload(ctx, loc)
			return fmt.Errorf("pushing blob %s: %w", desc.Digest, err)
		}
		return r.finishUpload(ctx, loc, desc.Digest, nil, 0)
	}
	if err := r.finishUpload(ctx, loc, desc.Digest, src, desc.Size); err != nil {
		r.cancelUpload(ctx, loc)
		return err
	}
	return nil
}

func (r *Repo) startUpload(ctx context.Context) (*url.URL, error) {
	resp, err := r.h.do(ctx, &request{method: http.MethodPost, path: "/v2/" + r.name + "/blobs/uploads/", scopes: r.scopes})
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusAccepted {
		return nil, statusError(resp, "starting upload to "+r.name)
	}
	defer drain(resp)
	return r.location(resp)
}

// location resolves a response's Location against the request's URL.
func (r *Repo) location(resp *http.Response) (*url.URL, error) {
	loc, err := resp.Location()
	if err != nil {
		return nil, fmt.Errorf("upload to %s: registry sent no location: %w", r.name, err)
	}
	return loc, nil
}

// uploadChunks PATCHes the blob in pieces, following each new location.
// A chunk is read into memory so that it can be sent again on a retry.
func (r *Repo) uploadChunks(ctx context.Context, loc *url.URL, desc ocispec.Descriptor, src BlobSource, size int64) (*url.URL, error) {
	rc, err := src(ctx)
	if err != nil {
		return loc, err
	}
	defer rc.Close()
	buf := make([]byte, size)
	var off int64
	for off < desc.Size {
		n, err := io.ReadFull(rc, buf[:min(size, desc.Size-off)])
		if err != nil {
			return loc, fmt.Errorf("reading blob %s at %d: %w", desc.Digest, off, err)
		}
		chunk := buf[:n]
		hdr := http.Header{
			"Content-Type":  {"application/octet-stream"},
			"Content-Range": {strconv.FormatInt(off, 10) + "-" + strconv.FormatInt(off+int64(n)-1, 10)},
		}
		resp, err := r.h.do(ctx, &request{method: http.MethodPatch, path: loc.String(), header: hdr, size: int64(n), scopes: r.scopes,
			body: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(chunk)), nil }})
		if err != nil {
			return loc, err
		}
		if resp.StatusCode != http.StatusAccepted {
			return loc, statusError(resp, "uploading chunk of blob "+desc.Digest.String())
		}
		next, err := r.location(resp)
		drain(resp)
		if err != nil {
			return loc, err
		}
		loc = next
		off += int64(n)
	}
	return loc, nil
}

// finishUpload PUTs the last (or only) bytes with the digest.
func (r *Repo) finishUpload(ctx context.Context, loc *url.URL, d digest.Digest, src BlobSource, size int64) error {
	u := *loc
	q := u.Query()
	q.Set("digest", d.String())
	u.RawQuery = q.Encode()
	req := &request{method: http.MethodPut, path: u.String(), scopes: r.scopes, size: size,
		header: http.Header{"Content-Type": {"application/octet-stream"}}}
	if src != nil {
		req.body = func() (io.ReadCloser, error) { return src(ctx) }
	}
	resp, err := r.h.do(ctx, req)
	if err != nil {
		return fmt.Errorf("pushing blob %s: %w", d, err)
	}
	if resp.StatusCode != http.StatusCreated {
		return statusError(resp, "pushing blob "+d.String())
	}
	drain(resp)
	return nil
}

// cancelUpload abandons an upload; failure only leaves it for the
// registry's own purge, so it is ignored.
func (r *Repo) cancelUpload(ctx context.Context, loc *url.URL) {
	if loc == nil {
		return
	}
	if resp, err := r.h.do(ctx, &request{method: http.MethodDelete, path: loc.String(), scopes: r.scopes}); err == nil {
		drain(resp)
	}
}

// PutManifest stores a manifest or index under ref (a tag or its digest).
func (r *Repo) PutManifest(ctx context.Context, ref string, mediaType string, data []byte) error {
	req := &request{method: http.MethodPut, path: "/v2/" + r.name + "/manifests/" + ref, scopes: r.scopes, size: int64(len(data)),
		header: http.Header{"Content-Type": {mediaType}},
		body:   func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }}
	resp, err := r.h.do(ctx, req)
	if err != nil {
		return fmt.Errorf("pushing manifest %s:%s: %w", r.name, ref, err)
	}
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		return statusError(resp, "pushing manifest "+r.name+":"+ref)
	}
	drain(resp)
	return nil
}
