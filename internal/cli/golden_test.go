package cli

import (
	"bytes"
	"cmp"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/strata-containers/strata/internal/engine"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// fixedNow is the clock of every golden file.
var fixedNow = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

func TestMain(m *testing.M) {
	now = func() time.Time { return fixedNow }
	time.Local = time.UTC // CreatedAt prints in the local zone
	code := m.Run()
	removeBinary()
	os.Exit(code)
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it)\ngot:\n%s\nwant:\n%s", name, got, want)
	}
}

const (
	idBusybox = "sha256:a416a98b71e224a31ee99cff8e16063554498227d2b696152a9c3e0aa65e5824"
	idApp     = "sha256:0c1b5b5e4f3ac18e5a4c8b3a1b2c3d4e5f60718293a4b5c6d7e8f90112233445"
	idNone    = "sha256:ffee0011223344556677889900aabbccddeeff00112233445566778899aabbcc"
	dgstBB    = "sha256:2376a0c12759aa1214ba83e771ff252c7b1663216b192fbe5e0fb364e952f85c"
)

func fixtureImages() []engine.ImageSummary {
	return []engine.ImageSummary{
		{
			ID: idApp, RepoTags: []string{"localhost:5000/team/app:1.0", "localhost:5000/team/app:latest"},
			RepoDigests: []string{}, Created: fixedNow.Add(-2 * time.Hour).Unix(),
			Size: 12_345_678, SharedSize: -1, Containers: -1,
		},
		{
			ID: idBusybox, RepoTags: []string{"busybox:latest"}, RepoDigests: []string{"busybox@" + dgstBB},
			Created: fixedNow.Add(-40 * 24 * time.Hour).Unix(), Size: 4_261_550, SharedSize: -1, Containers: -1,
		},
		{
			ID: idNone, RepoTags: []string{"<none>:<none>"}, RepoDigests: []string{"<none>@<none>"},
			Created: fixedNow.Add(-400 * 24 * time.Hour).Unix(), Size: 999, SharedSize: -1, Containers: -1,
		},
	}
}

func TestImagesGolden(t *testing.T) {
	tests := []struct {
		name string
		opts imagesOptions
	}{
		{"images", imagesOptions{}},
		{"images-digests", imagesOptions{digests: true}},
		{"images-no-trunc", imagesOptions{noTrunc: true}},
		{"images-quiet", imagesOptions{quiet: true}},
		{"images-json", imagesOptions{format: "json"}},
		{"images-template", imagesOptions{format: "{{.Repository}}:{{.Tag}} {{.ID}} {{.CreatedAt}}"}},
		{"images-table-template", imagesOptions{format: "table {{.ID}}\t{{.Repository}}\t{{.Size}}\t{{.VirtualSize}}"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := writeImages(&buf, fixtureImages(), tt.opts); err != nil {
				t.Fatal(err)
			}
			golden(t, tt.name, buf.Bytes())
		})
	}
}

func TestHistoryGolden(t *testing.T) {
	items := []engine.HistoryItem{
		{ID: idBusybox, Created: fixedNow.Add(-3 * time.Hour).Unix(), CreatedBy: "/bin/sh -c #(nop)  CMD [\"sh\"]", Tags: []string{"busybox:latest"}},
		{ID: "<missing>", Created: fixedNow.Add(-3 * time.Hour).Unix(),
			CreatedBy: "/bin/sh -c #(nop) ADD file:7e9002edaafd4e4579b65c8f0aaabde1aeb7fd3f8d95579f7fd3443cef785fd1 in / ",
			Size:      4_261_550, Comment: "imported"},
	}
	for _, tt := range []struct {
		name string
		opts historyOptions
	}{
		{"history", historyOptions{human: true}},
		{"history-no-human", historyOptions{}},
		{"history-no-trunc", historyOptions{human: true, noTrunc: true}},
		{"history-quiet", historyOptions{human: true, quiet: true}},
		{"history-json", historyOptions{human: true, format: "json"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := writeHistory(&buf, items, tt.opts); err != nil {
				t.Fatal(err)
			}
			golden(t, tt.name, buf.Bytes())
		})
	}
}

func TestDiskUsageGolden(t *testing.T) {
	imgs := fixtureImages()
	imgs[0].SharedSize, imgs[0].Containers = 4_000_000, 0
	imgs[1].SharedSize, imgs[1].Containers = 4_000_000, 1
	imgs[2].SharedSize, imgs[2].Containers = 0, 0
	du := engine.DiskUsage{LayersSize: 12_654_227, Images: imgs, ImagesReclaimable: 12_654_227 - 261_550}
	for _, tt := range []struct {
		name    string
		format  string
		verbose bool
	}{
		{"df", "", false},
		{"df-verbose", "", true},
		{"df-json", "json", false},
		{"df-verbose-template", "{{range .Images}}{{.Repository}} {{.UniqueSize}}\n{{end}}", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := writeDiskUsage(&buf, du, tt.format, tt.verbose); err != nil {
				t.Fatal(err)
			}
			golden(t, tt.name, buf.Bytes())
		})
	}
}

func TestHelpGolden(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"images", "--help"}, {"image", "--help"}, {"system", "--help"}, {"tag", "--help"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			var out bytes.Buffer
			root := NewRootCommand(Streams{In: strings.NewReader(""), Out: &out, Err: &out}, func(string) (string, bool) { return "", false })
			root.SetArgs(args)
			if err := root.Execute(); err != nil {
				t.Fatal(err)
			}
			name := strings.Join(args[:len(args)-1], "-")
			golden(t, "help-"+cmp.Or(name, "root"), out.Bytes())
		})
	}
}
