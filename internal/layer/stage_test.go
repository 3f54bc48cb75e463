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
	"github.com/vbatts/tar-split/tar/storage"

	"github.com/strata-containers/strata/internal/errdefs"
)

func TestStageCommit(t *testing.T) {
	s := openStore(t, "overlay")
	ctx := context.Background()
	base := register(t, s, "", file("etc/os-release", "base\n"))
	tarball := rawTar(t, tar.FormatPAX, true, rdir("app/"), reg("app/big", strings.Repeat("y", 100000)))
	st, err := s.Stage(ctx, bytes.NewReader(tarball), StageOptions{KeepTar: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Discard()
	if _, err := st.OpenTar(); !errdefs.IsNotFound(err) {
		t.Fatalf("copy of a rebuildable tar: %v; want none kept", err)
	}
	info, err := st.Commit(ctx, base.ChainID)
	if err != nil {
		t.Fatal(err)
	}
	want := Info{ChainID: ChainID(base.ChainID, st.DiffID()), DiffID: st.DiffID(), Parent: base.ChainID,
		TarSize: int64(len(tarball)), TarSplit: true, Size: 100000}
	if info != want {
		t.Fatalf("committed %+v, want %+v", info, want)
	}
	if got, err := s.Get(ctx, info.ChainID); err != nil || got != want {
		t.Fatalf("Get: %+v, %v", got, err)
	}
	checkDiff(t, s, info, tarball)
	left, err := os.ReadDir(filepath.Join(s.root, "tmp"))
	if err != nil || len(left) != 0 {
		t.Fatalf("tmp after commit: %v, %v; want empty", left, err)
	}
}

func TestStageNeedsStackingDriver(t *testing.T) {
	s := openStore(t, "vfs")
	if _, err := s.Stage(context.Background(), strings.NewReader(""), StageOptions{}); !errdefs.IsInvalid(err) {
		t.Fatalf("staging on vfs: %v; want invalid", err)
	}
}

// TestDiffChecksRecordedCRC rebuilds a layer whose metadata carries the
// per-file CRC-64 that earlier versions recorded: it is still checked.
func TestDiffChecksRecordedCRC(t *testing.T) {
	forEachDriver(t, func(t *testing.T, s *Store) {
		tarball := rawTar(t, tar.FormatPAX, true, reg("a", "alpha\n"), reg("b", "beta\n"))
		for _, tc := range []struct {
			name string
			crc  func(body []byte) []byte
			ok   bool
		}{
			{"right", crcOf, true},
			{"wrong", func(body []byte) []byte { return crcOf(append(body, 'x')) }, false},
		} {
			t.Run(tc.name, func(t *testing.T) {
				info := registerBytes(t, s, "", tarball)
				t.Cleanup(func() { s.Remove(context.Background(), info.ChainID) })
				addCRCs(t, s, info, tc.crc)
				rc, err := s.Diff(context.Background(), info.ChainID)
				if err != nil {
					t.Fatal(err)
				}
				defer rc.Close()
				got, err := io.ReadAll(rc)
				switch {
				case tc.ok && (err != nil || !bytes.Equal(got, tarball)):
					t.Fatalf("rebuild: %v (equal: %v)", err, bytes.Equal(got, tarball))
				case !tc.ok && !errdefs.IsDataLoss(err):
					t.Fatalf("rebuild with a wrong CRC: %v; want data loss", err)
				}
			})
		}
	})
}

func crcOf(body []byte) []byte {
	h := crc64.New(storage.CRCTable)
	h.Write(body)
	return h.Sum(nil)
}

// addCRCs rewrites a layer's metadata with crc(content) for every file.
func addCRCs(t *testing.T, s *Store, info Info, crc func([]byte) []byte) {
	t.Helper()
	path := filepath.Join(s.layerPath(info.ChainID), splitFile)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	up, p := storage.NewJSONUnpacker(zr), storage.NewJSONPacker(zw)
	for {
		e, err := up.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if e.Type == storage.FileType && e.Size > 0 {
			body, err := os.ReadFile(filepath.Join(s.Dir(info.ChainID), e.GetName()))
			if err != nil {
				t.Fatal(err)
			}
			e.Payload = crc(body)
		}
		if _, err := p.AddEntry(*e); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, out.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}
