package logs

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestTailAcrossRotation: every tail length, across the current file and
// the rotated ones, with and without time bounds, gives the last entries
// of the whole log in order.
func TestTailAcrossRotation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	w, err := NewWriter(path, WriterOptions{MaxSize: 300, MaxFile: 4})
	if err != nil {
		t.Fatal(err)
	}
	start := fixedClock(w)
	writeLines(t, w, 30)
	w.Close()
	if _, err := os.Stat(path + ".2"); err != nil {
		t.Fatalf("the log did not rotate twice: %v", err)
	}
	all := collect(t, path, ReadOptions{Tail: -1})
	until := start.Add(25 * time.Second)
	var bounded []Entry
	for _, e := range all {
		if !e.Time.After(until) {
			bounded = append(bounded, e)
		}
	}
	for n := 0; n <= len(all)+2; n++ {
		if got, want := logs(collect(t, path, ReadOptions{Tail: n})), logs(all[max(0, len(all)-n):]); got != want {
			t.Errorf("tail %d: got %q, want %q", n, got, want)
		}
		got := logs(collect(t, path, ReadOptions{Tail: n, Until: until}))
		if want := logs(bounded[max(0, len(bounded)-n):]); got != want {
			t.Errorf("tail %d until %v: got %q, want %q", n, until, got, want)
		}
	}
	since := all[len(all)-3].Time
	if got, want := logs(collect(t, path, ReadOptions{Tail: 10, Since: since})), logs(all[len(all)-3:]); got != want {
		t.Errorf("tail 10 since: got %q, want %q", got, want)
	}
}

// TestTailReadsOnlyTheEnd: the last 3 entries of a 10 MB log cost one
// backward block, not the file.
func TestTailReadsOnlyTheEnd(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	w, err := NewWriter(path, WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	fixedClock(w)
	s := w.Stream("stdout")
	line := strings.Repeat("x", 200) + "\n"
	for i := 0; i < 40000; i++ {
		if _, err := s.Write([]byte(line)); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	w.Close()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, _ := f.Stat()
	end, err := completeEnd(f)
	if err != nil || end != fi.Size() {
		t.Fatalf("completeEnd = %d, %v; want the size %d", end, err, fi.Size())
	}
	r := &countingReaderAt{f: f}
	var out []Entry
	done, err := collectBack(context.Background(), r, end, ReadOptions{Tail: 3}, &out)
	if err != nil || !done || len(out) != 3 {
		t.Fatalf("collectBack: done %v, %d entries, %v", done, len(out), err)
	}
	if n := r.n.Load(); n > backBlock {
		t.Errorf("read %d bytes of a %d-byte log for 3 entries", n, fi.Size())
	}
}

// TestTailSkipsEntryBeingWritten: an incomplete last line is not an entry.
func TestTailSkipsEntryBeingWritten(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	data := `{"log":"a\n","stream":"stdout","time":"2026-01-02T03:04:05Z"}` + "\n" + `{"log":"b\n","str`
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := logs(collect(t, path, ReadOptions{Tail: 5})); got != "stdout:a\n" {
		t.Errorf("got %q", got)
	}
}

type countingReaderAt struct {
	f *os.File
	n atomic.Int64
}

func (c *countingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.f.ReadAt(p, off)
	c.n.Add(int64(n))
	return n, err
}

// TestLinesBackward: lines shorter and longer than a block come back
// whole, last first.
func TestLinesBackward(t *testing.T) {
	var want []string
	var b strings.Builder
	for i, n := range []int{0, 1, backBlock - 1, backBlock, 3*backBlock + 7, 5, backBlock + 1} {
		l := strings.Repeat(string(rune('a'+i)), n) + "\n"
		want = append(want, l)
		b.WriteString(l)
	}
	data := b.String()
	var got []string
	err := linesBackward(context.Background(), strings.NewReader(data), int64(len(data)), func(l []byte) bool {
		got = append(got, string(l))
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("got %d lines, want %d", len(got), len(want))
	}
	for i := range want {
		if got[len(got)-1-i] != want[i] {
			t.Errorf("line %d: got %d bytes, want %d", i, len(got[len(got)-1-i]), len(want[i]))
		}
	}
}

// BenchmarkReadTail compares `logs --tail 10` with reading the whole of a
// 40 MB log (200 000 entries): go test -bench ReadTail -benchtime=3x.
func BenchmarkReadTail(b *testing.B) {
	path := filepath.Join(b.TempDir(), "log")
	w, err := NewWriter(path, WriterOptions{})
	if err != nil {
		b.Fatal(err)
	}
	s := w.Stream("stdout")
	line := []byte(strings.Repeat("x", 150) + "\n")
	for i := 0; i < 200000; i++ {
		s.Write(line)
	}
	s.Close()
	w.Close()
	for _, bc := range []struct {
		name string
		tail int
	}{{"tail10", 10}, {"all", -1}} {
		b.Run(bc.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				n := 0
				err := Read(context.Background(), path, ReadOptions{Tail: bc.tail}, func(Entry) error { n++; return nil })
				if err != nil || n == 0 {
					b.Fatal(n, err)
				}
			}
		})
	}
}
