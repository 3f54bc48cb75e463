package distribution

import (
	"bytes"
	"io"
	"testing"
	"testing/iotest"
)

func TestCountBytes(t *testing.T) {
	data := bytes.Repeat([]byte("strata"), 10000)
	var got []Progress
	rc := countBytes(io.NopCloser(iotest.OneByteReader(bytes.NewReader(data))), func(p Progress) { got = append(got, p) },
		true, "a1b2c3d4e5f6", "Downloading", int64(len(data)))
	if _, err := io.Copy(io.Discard, rc); err != nil {
		t.Fatal(err)
	}
	// Read past the end again, as pull does after unpack: no second final report.
	if _, err := io.Copy(io.Discard, rc); err != nil {
		t.Fatal(err)
	}
	// The first byte is reported at once, the rest throttled; the end
	// always is.
	if len(got) < 2 || got[0].Current != 1 {
		t.Fatalf("reports %+v", got)
	}
	last := got[len(got)-1]
	if last != (Progress{ID: "a1b2c3d4e5f6", Status: "Downloading", Current: int64(len(data)), Total: int64(len(data))}) {
		t.Fatalf("last report %+v", last)
	}
	for i := 1; i < len(got); i++ {
		if got[i].Current <= got[i-1].Current {
			t.Fatalf("report %d went from %d to %d bytes", i, got[i-1].Current, got[i].Current)
		}
	}
}

func TestCountBytesNotWanted(t *testing.T) {
	rc := io.NopCloser(bytes.NewReader(nil))
	if got := countBytes(rc, func(Progress) {}, false, "id", "Pushing", 0); got != rc {
		t.Fatal("wrapped a reader nobody wanted counts from")
	}
	if got := countBytes(rc, nil, true, "id", "Pushing", 0); got != rc {
		t.Fatal("wrapped a reader with no one to report to")
	}
}

func TestCountBytesAllocatesNothing(t *testing.T) {
	src := bytes.NewReader(make([]byte, 1<<20))
	rc := countBytes(io.NopCloser(src), func(Progress) {}, true, "id", "Downloading", 1<<20)
	buf := make([]byte, 512)
	if n := testing.AllocsPerRun(100, func() { _, _ = rc.Read(buf) }); n != 0 {
		t.Fatalf("%v allocations per Read", n)
	}
}
