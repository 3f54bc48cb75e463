package logs

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func collect(t *testing.T, path string, opts ReadOptions) []Entry {
	t.Helper()
	var got []Entry
	err := Read(context.Background(), path, opts, func(e Entry) error {
		got = append(got, e)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func logs(es []Entry) string {
	var b strings.Builder
	for _, e := range es {
		fmt.Fprintf(&b, "%s:%s", e.Stream, e.Log)
	}
	return b.String()
}

// fixedClock makes entry times 1s apart from a fixed start.
func fixedClock(w *Writer) time.Time {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var n int
	w.now = func() time.Time { n++; return start.Add(time.Duration(n) * time.Second) }
	return start
}

func TestFormat(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c-json.log")
	w, err := NewWriter(path, WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	fixedClock(w)
	out, errs := w.Stream("stdout"), w.Stream("stderr")
	fmt.Fprint(out, "hello\nwor")
	fmt.Fprint(errs, "oops\n")
	fmt.Fprint(out, "ld\n<tail>")
	out.Close()
	errs.Close()
	w.Close()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"log":"hello\n","stream":"stdout","time":"2026-01-02T03:04:06Z"}
{"log":"oops\n","stream":"stderr","time":"2026-01-02T03:04:07Z"}
{"log":"world\n","stream":"stdout","time":"2026-01-02T03:04:08Z"}
{"log":"\u003ctail\u003e","stream":"stdout","time":"2026-01-02T03:04:09Z"}
`
	if string(data) != want {
		t.Errorf("file:\n%s\nwant:\n%s", data, want)
	}
}

func TestLongLineIsCut(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	w, _ := NewWriter(path, WriterOptions{})
	s := w.Stream("stdout")
	fmt.Fprint(s, strings.Repeat("x", maxLine+10)+"\n")
	s.Close()
	w.Close()
	got := collect(t, path, ReadOptions{Tail: -1})
	if len(got) != 2 || len(got[0].Log) != maxLine || got[1].Log != strings.Repeat("x", 10)+"\n" {
		t.Errorf("got %d entries", len(got))
	}
}

func writeLines(t *testing.T, w *Writer, n int) {
	t.Helper()
	s := w.Stream("stdout")
	for i := range n {
		fmt.Fprintf(s, "line %d\n", i)
	}
}

func TestRotateAndRead(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	w, err := NewWriter(path, WriterOptions{MaxSize: 300, MaxFile: 3})
	if err != nil {
		t.Fatal(err)
	}
	start := fixedClock(w)
	writeLines(t, w, 20)
	w.Close()
	if _, err := os.Stat(path + ".3"); !os.IsNotExist(err) {
		t.Errorf("kept more than 3 files: %v", err)
	}
	for _, p := range []string{path, path + ".1", path + ".2"} {
		if st, err := os.Stat(p); err != nil || st.Size() > 300 {
			t.Fatalf("%s: %v, %v", p, st, err)
		}
	}
	all := collect(t, path, ReadOptions{Tail: -1})
	if len(all) < 5 || all[len(all)-1].Log != "line 19\n" {
		t.Fatalf("read %d entries, last %v", len(all), all[len(all)-1])
	}
	for i := 1; i < len(all); i++ {
		if !all[i].Time.After(all[i-1].Time) {
			t.Fatalf("entries out of order at %d", i)
		}
	}
	cases := []struct {
		name string
		opts ReadOptions
		want string
	}{
		{"tail", ReadOptions{Tail: 2}, "stdout:line 18\nstdout:line 19\n"},
		{"tail 0", ReadOptions{Tail: 0}, ""},
		{"since", ReadOptions{Tail: -1, Since: start.Add(19 * time.Second)}, "stdout:line 18\nstdout:line 19\n"},
		{"until", ReadOptions{Tail: -1, Until: start.Add(20 * time.Second), Since: start.Add(20 * time.Second)}, "stdout:line 19\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := logs(collect(t, path, c.opts)); got != c.want {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}

func TestMissingLog(t *testing.T) {
	if got := collect(t, filepath.Join(t.TempDir(), "none"), ReadOptions{Tail: -1}); len(got) != 0 {
		t.Errorf("got %v", got)
	}
}

// TestFollow: a follower sees lines written after it started, across a
// rotation, and returns once done is closed and everything is delivered.
func TestFollow(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	w, err := NewWriter(path, WriterOptions{MaxSize: 600, MaxFile: 2}) // one rotation
	if err != nil {
		t.Fatal(err)
	}
	writeLines(t, w, 1)
	done := make(chan struct{})
	got := make(chan string)
	go func() {
		var es []Entry
		err := Read(context.Background(), path, ReadOptions{Tail: -1, Follow: true, Done: done}, func(e Entry) error {
			es = append(es, e)
			if len(es) == 1 {
				got <- "first"
			}
			return nil
		})
		if err != nil {
			got <- err.Error()
		}
		got <- logs(es)
	}()
	if s := <-got; s != "first" {
		t.Fatal(s)
	}
	s := w.Stream("stderr")
	for i := range 10 {
		fmt.Fprintf(s, "more %d\n", i)
	}
	w.Close()
	close(done)
	res := <-got
	if !strings.HasPrefix(res, "stdout:line 0\nstderr:more 0\n") || !strings.HasSuffix(res, "stderr:more 9\n") ||
		strings.Count(res, "\n") != 11 {
		t.Errorf("followed:\n%s", res)
	}
}

func BenchmarkWrite(b *testing.B) {
	w, err := NewWriter(filepath.Join(b.TempDir(), "log"), WriterOptions{MaxSize: 10 << 20, MaxFile: 2})
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	s := w.Stream("stdout")
	line := []byte(strings.Repeat("a", 79) + "\n")
	b.SetBytes(int64(len(line)))
	for b.Loop() {
		s.Write(line)
	}
}
