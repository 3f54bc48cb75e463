package layer

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
)

// The test binary doubles as a writer that dies mid-Register: with
// helperEnv set it registers a layer from a stream that stalls halfway, says
// so on stdout, and waits to be killed.
const helperEnv = "STRATA_LAYER_TEST_HELPER"

func TestMain(m *testing.M) {
	if spec := os.Getenv(helperEnv); spec != "" {
		os.Exit(stalledRegister(spec))
	}
	os.Exit(m.Run())
}

func stalledRegister(spec string) int {
	driver, root, _ := strings.Cut(spec, ":")
	s, err := Open(context.Background(), Options{Root: root, Driver: driver})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	var prefix bytes.Buffer
	tw := tar.NewWriter(&prefix)
	tw.WriteHeader(&tar.Header{Name: "big", Typeflag: tar.TypeReg, Mode: 0o644, Size: 1 << 20})
	tw.Write(make([]byte, 64<<10))
	_, err = s.Register(context.Background(), "", digest.FromString("never"), &stallReader{r: &prefix})
	fmt.Fprintln(os.Stderr, "register returned:", err)
	return 3
}

// stallReader serves r, then announces it is stalled and blocks forever.
type stallReader struct{ r io.Reader }

func (s *stallReader) Read(p []byte) (int, error) {
	if n, _ := s.r.Read(p); n > 0 {
		return n, nil
	}
	os.Stdout.WriteString("stalled\n")
	select {}
}

func TestKilledWriterIsSwept(t *testing.T) {
	forEachDriver(t, func(t *testing.T, s *Store) {
		root := filepath.Dir(s.root)
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), helperEnv+"="+s.Driver()+":"+root)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		line, err := bufio.NewReader(out).ReadString('\n')
		if line != "stalled\n" {
			t.Fatalf("writer did not stall in Register: %q, %v; stderr:\n%s", line, err, stderr.String())
		}
		if got := names(t, s, "tmp"); len(got) == 0 {
			t.Fatal("the stalled writer has no entry in tmp/")
		}
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		cmd.Wait()
		if got := names(t, s, "tmp"); len(got) == 0 {
			t.Fatal("the killed writer's tmp entry vanished before any sweep")
		}
		s2 := openStoreAt(t, root, s.Driver())
		if got := names(t, s2, "tmp"); len(got) != 0 {
			t.Errorf("tmp/ after Open = %v, want the dead writer's entry swept", got)
		}
		if got := names(t, s2, "layers"); len(got) != 0 {
			t.Errorf("layers/ = %v, want nothing committed", got)
		}
	})
}
