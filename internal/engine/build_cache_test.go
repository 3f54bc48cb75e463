package engine

import (
	"archive/tar"
	"bytes"
	"io"
	"testing"
	"time"
)

func TestClampTimes(t *testing.T) {
	epoch := time.Unix(1_700_000_000, 0).UTC()
	old := time.Unix(1_000_000_000, 0).UTC()
	var in bytes.Buffer
	tw := tar.NewWriter(&in)
	for _, h := range []*tar.Header{
		{Name: "new", Mode: 0o644, Size: 1, ModTime: time.Now(), AccessTime: time.Now(), Format: tar.FormatPAX},
		{Name: "old", Mode: 0o644, Size: 1, ModTime: old, Format: tar.FormatPAX},
	} {
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		_, _ = tw.Write([]byte("x"))
	}
	tw.Close()
	tr := tar.NewReader(clampTimes(&in, epoch))
	want := map[string]time.Time{"new": epoch, "old": old}
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if !hdr.ModTime.Equal(want[hdr.Name]) || !hdr.AccessTime.IsZero() {
			t.Errorf("%s: mtime %v atime %v, want mtime %v and no atime", hdr.Name, hdr.ModTime, hdr.AccessTime, want[hdr.Name])
		}
		if data, _ := io.ReadAll(tr); string(data) != "x" {
			t.Errorf("%s: content %q", hdr.Name, data)
		}
		delete(want, hdr.Name)
	}
	if len(want) > 0 {
		t.Errorf("entries lost: %v", want)
	}
}
