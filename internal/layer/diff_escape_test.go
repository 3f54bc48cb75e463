package layer

import (
	"archive/tar"
	"bytes"
	"context"
	"hash/crc64"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/opencontainers/go-digest"
	"github.com/vbatts/tar-split/tar/storage"

	"github.com/strata-containers/strata/internal/errdefs"
)

// TestDiffStaysInLayer rewrites a layer's metadata to name host files, by
// way of symlinks the layer holds, "..", and an absolute path: the rebuild
// must refuse each one and never pass on a byte of the host file.
func TestDiffStaysInLayer(t *testing.T) {
	host := t.TempDir()
	secret := "host secret, never part of a layer"
	if err := os.WriteFile(filepath.Join(host, "secret"), []byte(secret), 0o644); err != nil {
		t.Fatal(err)
	}
	attempts := map[string]string{
		"symlinked directory": "esc/secret",
		"symlink":             "lnk",
		"dot-dot":             strings.Repeat("../", 40) + strings.TrimPrefix(host, "/") + "/secret",
		"absolute path":       host + "/secret",
	}
	forEachDriver(t, func(t *testing.T, s *Store) {
		info := registerBytes(t, s, "", rawTar(t, tar.FormatPAX, true,
			rlink(tar.TypeSymlink, "esc", host), rlink(tar.TypeSymlink, "lnk", host+"/secret"),
			reg("x", strings.Repeat("x", len(secret)))))
		for name, target := range attempts {
			t.Run(name, func(t *testing.T) {
				writeForgedMeta(t, s, info.ChainID, target, secret)
				rc, err := s.Diff(context.Background(), info.ChainID)
				if err != nil {
					t.Fatal(err)
				}
				defer rc.Close()
				got, err := io.ReadAll(rc)
				if !errdefs.IsDataLoss(err) {
					t.Errorf("rebuild through %q: %v, want data loss", target, err)
				}
				if bytes.Contains(got, []byte(secret)) {
					t.Fatalf("rebuild through %q read the host file", target)
				}
			})
		}
	})
}

// writeForgedMeta replaces a layer's metadata with one file entry that names
// target and carries the checksum of content, as if the layer held it.
func writeForgedMeta(t *testing.T, s *Store, chain digest.Digest, target, content string) {
	t.Helper()
	one := rawTar(t, tar.FormatUSTAR, false, reg("x", content))
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	p := storage.NewJSONPacker(zw)
	crc := crc64.New(storage.CRCTable)
	io.WriteString(crc, content)
	entries := []storage.Entry{
		{Type: storage.SegmentType, Payload: one[:512]},
		{Type: storage.FileType, Name: target, Size: int64(len(content)), Payload: crc.Sum(nil)},
		{Type: storage.SegmentType, Payload: make([]byte, -len(content)&511+1024)},
	}
	for _, e := range entries {
		if _, err := p.AddEntry(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(s.layerPath(chain), splitFile), buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}
