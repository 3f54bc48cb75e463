package content

import (
	"bufio"
	"bytes"
	"context"
	_ "crypto/sha512" // makes sha512 digests valid, so that the sha256-only rule is what rejects them
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/strata-containers/strata/internal/errdefs"
)

func TestRejectsBadDigests(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	tests := []digest.Digest{
		"",
		"sha256:../../../etc/passwd",
		"sha256:" + digest.Digest(strings.Repeat("A", 64)),
		"sha256:abc",
		"sha512:" + digest.Digest(strings.Repeat("ab", 64)),
		"sha384:" + digest.Digest(strings.Repeat("ab", 48)),
		"md5:d41d8cd98f00b204e9800998ecf8427e",
	}
	for _, d := range tests {
		t.Run(string(d), func(t *testing.T) {
			if p := s.Path(d); p != "" {
				t.Errorf("Path = %q, want \"\"", p)
			}
			checks := map[string]error{}
			_, checks["Open"] = s.Open(ctx, d)
			_, checks["ReadAll"] = s.ReadAll(ctx, d)
			_, checks["Info"] = s.Info(ctx, d)
			checks["Delete"] = s.Delete(ctx, d)
			checks["Verify"] = s.Verify(ctx, d)
			if d != "" {
				_, checks["Writer"] = s.Writer(ctx, d, -1)
			}
			for name, err := range checks {
				if !errdefs.IsInvalid(err) {
					t.Errorf("%s: error %v, want errdefs.ErrInvalid", name, err)
				}
			}
		})
	}
	assertEmpty(t, s)
}

func TestMissingBlob(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	d := digest.FromString("absent")
	checks := map[string]error{}
	_, checks["Open"] = s.Open(ctx, d)
	_, checks["ReadAll"] = s.ReadAll(ctx, d)
	_, checks["Info"] = s.Info(ctx, d)
	checks["Delete"] = s.Delete(ctx, d)
	checks["Verify"] = s.Verify(ctx, d)
	for name, err := range checks {
		if !errdefs.IsNotFound(err) {
			t.Errorf("%s: error %v, want errdefs.ErrNotFound", name, err)
		}
	}
}

func TestDelete(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	info, err := s.Ingest(ctx, strings.NewReader("to delete"), "", -1)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, info.Digest); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.Path(info.Digest)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("blob still on disk after Delete: %v", err)
	}
}

// TestWalkSkipsJunk puts files that are not blobs beside real ones.
func TestWalkSkipsJunk(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	var want []digest.Digest
	for _, b := range []string{"one", "two", "three"} {
		info, err := s.Ingest(ctx, strings.NewReader(b), "", -1)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, info.Digest)
	}
	slices.Sort(want)
	for _, junk := range []string{"README", strings.Repeat("A", 64), strings.Repeat("a", 63), ".tmp-x"} {
		if err := os.WriteFile(filepath.Join(s.blobDir(), junk), []byte("junk"), 0o444); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(s.blobDir(), strings.Repeat("b", 64)), 0o700); err != nil {
		t.Fatal(err)
	}
	var got []digest.Digest
	err := s.Walk(ctx, func(i Info) error {
		if i.Size <= 0 {
			t.Errorf("blob %s size %d", i.Digest, i.Size)
		}
		got = append(got, i.Digest)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("Walk listed %v, want %v", got, want)
	}
	stop := errors.New("stop")
	n := 0
	if err := s.Walk(ctx, func(Info) error { n++; return stop }); err != stop || n != 1 {
		t.Errorf("Walk with failing fn: err %v after %d calls, want stop after 1", err, n)
	}
}

func TestVerifyDetectsChangedBytes(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	info, err := s.Ingest(ctx, strings.NewReader("pristine content"), "", -1)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Verify(ctx, info.Digest); err != nil {
		t.Fatalf("Verify of a good blob: %v", err)
	}
	path := s.Path(info.Digest)
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("Pristine content"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := s.Verify(ctx, info.Digest); !errdefs.IsDataLoss(err) {
		t.Fatalf("Verify of a changed blob: error %v, want errdefs.ErrDataLoss", err)
	}
}

// TestSweepKilledWriter runs a writer in a child process (this test binary
// again), kills it with SIGKILL mid-write and checks that the next Open
// removes what it left.
func TestSweepKilledWriter(t *testing.T) {
	if root := os.Getenv("CONTENT_TEST_WRITER_ROOT"); root != "" {
		childWriter(root)
		return
	}
	root := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestSweepKilledWriter$")
	cmd.Env = append(os.Environ(), "CONTENT_TEST_WRITER_ROOT="+root)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if line != "written\n" {
		t.Fatalf("child did not start writing: %q %v", line, err)
	}
	s, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	if got := names(t, s.ingestDir()); len(got) != 2 {
		t.Fatalf("a live writer's ingest was swept or is incomplete: %v", got)
	}
	cmd.Process.Kill()
	cmd.Wait()
	if _, err := Open(root); err != nil {
		t.Fatal(err)
	}
	assertEmpty(t, s)
}

// childWriter is the child side of TestSweepKilledWriter: it writes part of
// a blob, says so, and waits to be killed.
func childWriter(root string) {
	s, err := Open(root)
	if err != nil {
		os.Exit(2)
	}
	w, err := s.Writer(context.Background(), "", 1<<30)
	if err != nil {
		os.Exit(3)
	}
	if _, err := w.Write(make([]byte, 1<<20)); err != nil {
		os.Exit(4)
	}
	os.Stdout.WriteString("written\n")
	select {}
}

// TestSweepSparesLiveWriter opens the store again while a writer of this
// process is alive: its lock is held, so its ingest must survive.
func TestSweepSparesLiveWriter(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	w, err := s.Writer(ctx, "", -1)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	w.Write([]byte("still writing"))
	if _, err := Open(s.root); err != nil {
		t.Fatal(err)
	}
	info, err := w.Commit(ctx)
	if err != nil {
		t.Fatalf("Commit after a sweep: %v", err)
	}
	if err := s.Verify(ctx, info.Digest); err != nil {
		t.Fatal(err)
	}
}

// TestSweepLeftovers plants the files a crashed writer can leave, in each
// state of the protocol, and checks that Open removes them all.
func TestSweepLeftovers(t *testing.T) {
	root := t.TempDir()
	ingest := filepath.Join(root, "ingest")
	if err := os.MkdirAll(ingest, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"A", "A.lock", newPrefix + "B.lock", "C", "D.lock"} {
		if err := os.WriteFile(filepath.Join(ingest, name), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	s, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	assertEmpty(t, s)
}

func BenchmarkIngest(b *testing.B) {
	ctx := context.Background()
	s := newStore(b)
	data := randomBytes(b, 64<<20)
	d := digest.FromBytes(data)
	b.SetBytes(int64(len(data)))
	for range b.N {
		if _, err := s.Ingest(ctx, bytes.NewReader(data), d, int64(len(data))); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if err := s.Delete(ctx, d); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}
