package registry

import (
	"context"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/strata-containers/strata/internal/errdefs"
)

// manifestAccept lists the manifest media types strata reads, best first.
var manifestAccept = strings.Join([]string{
	ocispec.MediaTypeImageIndex,
	"application/vnd.docker.distribution.manifest.list.v2+json",
	ocispec.MediaTypeImageManifest,
	"application/vnd.docker.distribution.manifest.v2+json",
	// Asked for so that a schema 1 registry answers with one and the
	// caller can refuse it by name instead of with a 404.
	"application/vnd.docker.distribution.manifest.v1+prettyjws",
}, ", ")

// maxManifestSize bounds a manifest in memory; the distribution spec
// recommends registries accept at least 4 MiB.
const maxManifestSize = 4 << 20

// GetManifest fetches the manifest or index ref names (a tag or a digest)
// and returns its bytes and descriptor. A digest is verified: bytes that do
// not hash to it are errdefs.ErrDataLoss. The media type is the one the
// registry sent, or the document's own when the header is generic.
func (r *Repo) GetManifest(ctx context.Context, ref string) ([]byte, ocispec.Descriptor, error) {
	what := fmt.Sprintf("manifest %s:%s", r.name, ref)
	hdr := http.Header{"Accept": {manifestAccept}}
	resp, err := r.h.do(ctx, &request{method: http.MethodGet, path: "/v2/" + r.name + "/manifests/" + ref, header: hdr, scopes: r.scopes})
	if err != nil {
		return nil, ocispec.Descriptor{}, fmt.Errorf("fetching %s: %w", what, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, ocispec.Descriptor{}, statusError(resp, "fetching "+what)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxManifestSize+1))
	if err != nil {
		return nil, ocispec.Descriptor{}, errdefs.Unavailable("reading %s: %w", what, err)
	}
	if len(data) > maxManifestSize {
		return nil, ocispec.Descriptor{}, errdefs.Invalid("%s is larger than %d bytes", what, maxManifestSize)
	}
	desc := ocispec.Descriptor{MediaType: mediaType(resp.Header.Get("Content-Type"), data), Digest: digest.FromBytes(data), Size: int64(len(data))}
	if d, err := digest.Parse(ref); err == nil {
		if actual := d.Algorithm().FromBytes(data); actual != d {
			return nil, ocispec.Descriptor{}, errdefs.DataLoss("%s: content hashes to %s", what, actual)
		}
		desc.Digest = d
	}
	return data, desc, nil
}

// mediaType prefers the document's mediaType field over a generic header.
func mediaType(header string, data []byte) string {
	var head struct {
		MediaType     string          `json:"mediaType"`
		Manifests     json.RawMessage `json:"manifests"`
		SchemaVersion int             `json:"schemaVersion"`
	}
	_ = json.Unmarshal(data, &head)
	header, _, _ = strings.Cut(header, ";")
	switch {
	case head.MediaType != "":
		return head.MediaType
	case header != "" && header != "application/json" && header != "text/plain":
		return header
	case head.SchemaVersion == 1:
		return "application/vnd.docker.distribution.manifest.v1+json"
	case head.Manifests != nil:
		return ocispec.MediaTypeImageIndex
	}
	return ocispec.MediaTypeImageManifest
}

// Tags lists the repository's tags.
func (r *Repo) Tags(ctx context.Context) ([]string, error) {
	resp, err := r.h.do(ctx, &request{method: http.MethodGet, path: "/v2/" + r.name + "/tags/list", scopes: r.scopes})
	if err != nil {
		return nil, fmt.Errorf("listing tags of %s: %w", r.name, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, statusError(resp, "listing tags of "+r.name)
	}
	defer resp.Body.Close()
	var body struct {
		Tags []string `json:"tags"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxManifestSize)).Decode(&body); err != nil {
		return nil, errdefs.Unavailable("decoding tags of %s: %w", r.name, err)
	}
	return body.Tags, nil
}

// OpenBlob streams the blob desc names. The reader verifies as it goes: at
// the end, bytes that do not hash to desc.Digest or are not desc.Size long
// make Read fail with errdefs.ErrDataLoss instead of returning io.EOF, so a
// consumer that commits only on EOF never commits bad data. A body cut
// short is resumed with a Range request (or read again from the start when
// the server ignores ranges). Foreign layers are fetched from their URLs
// first. onResume, if set, is told each time a cut is resumed.
func (r *Repo) OpenBlob(ctx context.Context, desc ocispec.Descriptor) io.ReadCloser {
	return &blobReader{ctx: ctx, r: r, desc: desc, h: desc.Digest.Algorithm().Hash()}
}

// blobReader is the resumable, verifying body of one blob.
type blobReader struct {
	ctx     context.Context
	r       *Repo
	desc    ocispec.Descriptor
	h       hash.Hash
	body    io.ReadCloser
	skip    int64 // bytes to discard from a body that restarted at 0
	n       int64
	resumes int
	err     error
}

func (b *blobReader) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	for {
		if b.body == nil {
			if err := b.open(); err != nil {
				b.err = err
				return 0, err
			}
		}
		n, err := b.read(p)
		if n > 0 || err == nil {
			return n, nil
		}
		if err == io.EOF && b.n >= b.desc.Size {
			b.err = io.EOF
			if err := b.verify(); err != nil {
				b.err = err
			}
			return 0, b.err
		}
		if errdefs.IsDataLoss(err) {
			b.err = err
			return 0, err
		}
		// Cut short, reset, or timed out: resume from b.n.
		b.body.Close()
		b.body = nil
		if b.resumes >= b.r.c.opts.Retries || b.ctx.Err() != nil {
			b.err = errdefs.Unavailable("reading blob %s at byte %d of %d: %w", b.desc.Digest, b.n, b.desc.Size, err)
			return 0, b.err
		}
		if err := b.r.h.sleep(b.ctx, b.r.h.backoff(b.resumes)); err != nil {
			b.err = err
			return 0, err
		}
		b.resumes++
	}
}

// read reads from the current body, dropping bytes already seen when the
// server restarted from 0, and never past desc.Size.
func (b *blobReader) read(p []byte) (int, error) {
	for b.skip > 0 {
		m, err := io.CopyN(io.Discard, b.body, b.skip)
		b.skip -= m
		if err != nil {
			return 0, err
		}
	}
	if rest := b.desc.Size - b.n; int64(len(p)) > rest {
		if rest == 0 {
			// Anything more than desc.Size bytes is wrong; one extra
			// byte is enough to tell.
			var one [1]byte
			if m, _ := b.body.Read(one[:]); m > 0 {
				return 0, errdefs.DataLoss("blob %s: more than the expected %d bytes", b.desc.Digest, b.desc.Size)
			}
			return 0, io.EOF
		}
		p = p[:rest]
	}
	n, err := b.body.Read(p)
	b.h.Write(p[:n])
	b.n += int64(n)
	return n, err
}

func (b *blobReader) verify() error {
	if actual := digest.NewDigest(b.desc.Digest.Algorithm(), b.h); actual != b.desc.Digest {
		return errdefs.DataLoss("blob digest mismatch: expected %s, actual %s", b.desc.Digest, actual)
	}
	return nil
}

func (b *blobReader) Close() error {
	if b.body != nil {
		return b.body.Close()
	}
	return nil
}

// Resumes reports how many times the reader resumed a cut body.
func Resumes(rc io.ReadCloser) int {
	if b, ok := rc.(*blobReader); ok {
		return b.resumes
	}
	return 0
}

// open starts (or resumes at b.n) the download, from a foreign URL first.
func (b *blobReader) open() error {
	var lastErr error
	for _, u := range b.desc.URLs {
		if !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") {
			continue
		}
		if lastErr = b.openAt(&request{method: http.MethodGet, path: u, noAuth: true}); lastErr == nil {
			return nil
		}
	}
	return b.openAt(&request{method: http.MethodGet, path: "/v2/" + b.r.name + "/blobs/" + b.desc.Digest.String(), scopes: b.r.scopes})
}

func (b *blobReader) openAt(req *request) error {
	if b.n > 0 {
		req.header = http.Header{"Range": {"bytes=" + strconv.FormatInt(b.n, 10) + "-"}}
	}
	resp, err := b.r.h.do(b.ctx, req)
	if err != nil {
		return fmt.Errorf("fetching blob %s: %w", b.desc.Digest, err)
	}
	switch resp.StatusCode {
	case http.StatusPartialContent:
		b.skip = 0
	case http.StatusOK:
		b.skip = b.n // the server ignored the range: skip what we have
	default:
		return statusError(resp, "fetching blob "+b.desc.Digest.String())
	}
	b.body = resp.Body
	return nil
}
