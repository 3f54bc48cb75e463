package build

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"

	"github.com/opencontainers/go-digest"

	"github.com/strata-containers/strata/internal/archive"
	"github.com/strata-containers/strata/internal/errdefs"
)

// isArchive reports whether the file at p is a tar, compressed or not: ADD
// unpacks those.
func isArchive(p string) bool {
	f, err := os.Open(p)
	if err != nil {
		return false
	}
	defer f.Close()
	r, _, err := archive.Decompress(f)
	if err != nil {
		return false
	}
	defer r.Close()
	_, err = tar.NewReader(r).Next()
	return err == nil
}

// download fetches an ADD URL into the plan's temp directory, checking
// --checksum when given. Docker writes the file with mode 0600.
func (p *copyPlan) download(ctx context.Context, raw, checksum string) (copyItem, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return copyItem{}, errdefs.Invalid("ADD %s: %w", raw, err)
	}
	if p.tmp == "" {
		if p.tmp, err = os.MkdirTemp(p.tempDir, "add-"); err != nil {
			return copyItem{}, err
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, raw, nil)
	if err != nil {
		return copyItem{}, errdefs.Invalid("ADD %s: %w", raw, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return copyItem{}, errdefs.Unavailable("ADD %s: %w", raw, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return copyItem{}, errdefs.Unavailable("ADD %s: %s", raw, resp.Status)
	}
	base := path.Base(u.Path)
	if base == "/" || base == "." {
		base = "index.html"
	}
	host := filepath.Join(p.tmp, fmt.Sprint(len(p.items)), base)
	if err := os.MkdirAll(filepath.Dir(host), 0o700); err != nil {
		return copyItem{}, err
	}
	f, err := os.OpenFile(host, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return copyItem{}, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(f, h), resp.Body); err != nil {
		return copyItem{}, errdefs.Unavailable("ADD %s: %w", raw, err)
	}
	if checksum != "" {
		want, err := digest.Parse(checksum)
		if err != nil {
			return copyItem{}, errdefs.Invalid("ADD --checksum=%s: %w", checksum, err)
		}
		if got := digest.NewDigest(digest.SHA256, h); want != got {
			return copyItem{}, errdefs.Invalid("ADD %s: checksum mismatch: want %s, got %s", raw, want, got)
		}
	}
	return copyItem{src: host, base: base, fromURL: true}, nil
}
