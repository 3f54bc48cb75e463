package archive_test

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/strata-containers/strata/internal/archive"
	"github.com/strata-containers/strata/internal/errdefs"
)

func compress(t testing.TB, data []byte, c archive.Compression) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := archive.Compress(&buf, c)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// testData is 3.5 MB of half text, half noise: several pipe chunks.
func testData() []byte {
	noise := make([]byte, 1<<20+1234)
	rand.NewChaCha8([32]byte{7}).Read(noise)
	text := strings.Repeat("the quick brown fox jumps over the lazy dog\n", 60000)
	return append(append([]byte(text), noise...), text[:1000]...)
}

func TestCompressDecompress(t *testing.T) {
	data := testData()
	for _, c := range []archive.Compression{archive.Uncompressed, archive.Gzip, archive.Zstd} {
		t.Run(c.String(), func(t *testing.T) {
			packed := compress(t, data, c)
			r, got, err := archive.Decompress(bytes.NewReader(packed))
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if got != c {
				t.Errorf("sniffed %s, want %s", got, c)
			}
			out, err := io.ReadAll(r)
			if err != nil || !bytes.Equal(out, data) {
				t.Fatalf("round trip: %d of %d bytes, err %v", len(out), len(data), err)
			}
		})
	}
}

func TestDecompressSniffsContentNotNames(t *testing.T) {
	for _, c := range []struct {
		data []byte
		want archive.Compression
	}{
		{nil, archive.Uncompressed},
		{[]byte{0x1f}, archive.Uncompressed},
		{[]byte("plain text that is no tar"), archive.Uncompressed},
		{compress(t, []byte("x"), archive.Gzip), archive.Gzip},
		{compress(t, []byte("x"), archive.Zstd), archive.Zstd},
	} {
		r, got, err := archive.Decompress(bytes.NewReader(c.data))
		if err != nil {
			t.Fatalf("Decompress(% x): %v", c.data[:min(4, len(c.data))], err)
		}
		r.Close()
		if got != c.want {
			t.Errorf("Decompress(% x) sniffed %s, want %s", c.data[:min(4, len(c.data))], got, c.want)
		}
	}
}

func TestDecompressDamage(t *testing.T) {
	data := testData()
	for _, c := range []archive.Compression{archive.Gzip, archive.Zstd} {
		packed := compress(t, data, c)
		flipped := bytes.Clone(packed)
		flipped[len(flipped)/2] ^= 0xff
		for name, bad := range map[string][]byte{"truncated": packed[:len(packed)/2], "corrupt": flipped} {
			t.Run(c.String()+"/"+name, func(t *testing.T) {
				r, _, err := archive.Decompress(bytes.NewReader(bad))
				if err == nil {
					defer r.Close()
					_, err = io.ReadAll(r)
				}
				if !errdefs.IsInvalid(err) {
					t.Fatalf("reading a %s %s stream = %v, want an invalid-argument error", name, c, err)
				}
			})
		}
	}
}

// failingReader returns its data, then err.
type failingReader struct {
	data []byte
	err  error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if len(f.data) == 0 {
		return 0, f.err
	}
	n := copy(p, f.data)
	f.data = f.data[n:]
	return n, nil
}

func TestDecompressPassesSourceErrors(t *testing.T) {
	errNet := errors.New("connection reset")
	for _, c := range []archive.Compression{archive.Gzip, archive.Zstd} {
		packed := compress(t, testData(), c)
		r, _, err := archive.Decompress(&failingReader{data: packed[:len(packed)/2], err: errNet})
		if err != nil {
			t.Fatal(err)
		}
		_, err = io.ReadAll(r)
		r.Close()
		if !errors.Is(err, errNet) || errdefs.IsInvalid(err) {
			t.Errorf("%s: source failure read as %v, want the source's error, unclassified", c, err)
		}
	}
}

func TestDecompressCloseEarly(t *testing.T) {
	for _, c := range []archive.Compression{archive.Gzip, archive.Zstd} {
		r, _, err := archive.Decompress(bytes.NewReader(compress(t, testData(), c)))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.Read(make([]byte, 10)); err != nil {
			t.Fatal(err)
		}
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := r.Read(make([]byte, 10)); err == nil {
			t.Errorf("%s: Read after Close succeeded", c)
		}
	}
}
