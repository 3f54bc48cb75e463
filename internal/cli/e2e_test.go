package cli

import (
	"bytes"
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"
)

var imageIDLine = regexp.MustCompile(`^sha256:[0-9a-f]{64}\n$`)

// rootfs is a tiny root filesystem tarball for `import`.
func rootfs(t *testing.T, seed string) []byte {
	return layerTar(t, map[string][]byte{"etc/hostname": []byte(seed + "\n"), "bin/tool": randomBytes(uint64(len(seed)), 2048)})
}

func TestE2EImportTagInspectHistoryRemove(t *testing.T) {
	s := newStore(t)
	out := s.ok(nil, "import", "-m", "first import", "-c", `CMD ["sh"]`, writeFile(t, "rootfs.tar", rootfs(t, "a")), "app:1")
	if !imageIDLine.MatchString(out) {
		t.Fatalf("import printed %q, want the image ID", out)
	}
	id := strings.TrimSpace(out)
	short := id[7:19]

	s.ok(nil, "tag", "app:1", "app:2")
	rows := lines(s.ok(nil, "images"))
	// The CREATED column is as wide as its longest value, which depends on
	// how long the test took ("Less than a second ago" or "1 second ago"):
	// check the fixed columns exactly and the rest by name.
	if !strings.HasPrefix(rows[0], "REPOSITORY   TAG       IMAGE ID       CREATED   ") ||
		strings.Join(strings.Fields(rows[0]), " ") != "REPOSITORY TAG IMAGE ID CREATED SIZE" {
		t.Fatalf("images header %q", rows[0])
	}
	if len(rows) != 3 || !strings.HasPrefix(rows[1], "app          1         "+short+"   ") ||
		!strings.HasPrefix(rows[2], "app          2         "+short+"   ") {
		t.Fatalf("images:\n%s", strings.Join(rows, "\n"))
	}

	var insp []map[string]any
	if err := json.Unmarshal([]byte(s.ok(nil, "inspect", "app:1")), &insp); err != nil {
		t.Fatal(err)
	}
	if len(insp) != 1 || insp[0]["Id"] != id || !slices.Equal(toStrings(insp[0]["RepoTags"]), []string{"app:1", "app:2"}) {
		t.Fatalf("inspect = %v", insp)
	}
	if got := s.ok(nil, "image", "inspect", "-f", "{{.Id}} {{.Config.Cmd}} {{.Size}}", short); !strings.HasPrefix(got, id+" [sh] ") {
		t.Fatalf("inspect -f = %q", got)
	}

	hist := lines(s.ok(nil, "history", "app:2"))
	if len(hist) != 2 || !strings.HasPrefix(hist[1], short+"   ") || !strings.HasSuffix(hist[1], "first import") {
		t.Fatalf("history:\n%s", strings.Join(hist, "\n"))
	}

	if got := s.ok(nil, "rmi", "app:1"); got != "Untagged: app:1\n" {
		t.Fatalf("rmi of one of two tags printed %q", got)
	}
	got := lines(s.ok(nil, "rmi", short))
	if len(got) != 3 || got[0] != "Untagged: app:2" || got[1] != "Deleted: "+id || !strings.HasPrefix(got[2], "Deleted: sha256:") {
		t.Fatalf("rmi of the last tag printed %q", got)
	}
	if rows := lines(s.ok(nil, "images", "-a")); len(rows) != 1 {
		t.Fatalf("images after rmi: %q", rows)
	}
	if blobs := dirEntries(t, s.root+"/content/blobs/sha256"); len(blobs) != 0 {
		t.Fatalf("blobs left after the last image went: %v", blobs)
	}
}

func toStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

func TestE2ESaveLoadAndSharedSizes(t *testing.T) {
	base := layerTar(t, map[string][]byte{"base/data": randomBytes(1, 200_000)})
	archive := dockerArchive(t,
		testImage{tags: []string{"a:1"}, layers: [][]byte{base, layerTar(t, map[string][]byte{"a": randomBytes(2, 10_000)})}},
		testImage{tags: []string{"b:1"}, layers: [][]byte{base, layerTar(t, map[string][]byte{"b": randomBytes(3, 30_000)})}},
		testImage{tags: []string{"c:1"}, layers: [][]byte{layerTar(t, map[string][]byte{"c": randomBytes(4, 5_000)})}},
	)
	src := newStore(t)
	if got := src.ok(bytes.NewReader(archive), "load"); got != "Loaded image: a:1\nLoaded image: b:1\nLoaded image: c:1\n" {
		t.Fatalf("load printed %q", got)
	}
	saved := src.ok(nil, "save", "a:1", "b", "c:1")
	file := writeFile(t, "saved.tar", []byte(saved))

	dst := newStore(t)
	got := dst.ok(nil, "load", "-i", file)
	if got != "Loaded image: a:1\nLoaded image: b:1\nLoaded image: c:1\n" {
		t.Fatalf("load -i printed %q", got)
	}
	ids := "{{.Repository}}:{{.Tag}} {{.ID}}"
	if a, b := src.ok(nil, "images", "--format", ids), dst.ok(nil, "images", "--format", ids); a != b {
		t.Fatalf("images differ after save | load:\n%s\nvs\n%s", a, b)
	}

	// -o writes the same archive as stdout.
	out := writeFile(t, "dummy", nil) + ".tar"
	dst.ok(nil, "save", "-o", out, "a:1", "b:1", "c:1")

	shared := map[string][]string{}
	for _, row := range lines(dst.ok(nil, "system", "df", "-v", "--format",
		"{{range .Images}}{{.Repository}} {{.Size}} {{.SharedSize}} {{.UniqueSize}} {{.Containers}}\n{{end}}")) {
		f := strings.Fields(row)
		shared[f[0]] = f[1:]
	}
	if shared["a"][1] != shared["b"][1] || shared["a"][1] == "0B" || shared["c"][1] != "0B" {
		t.Fatalf("shared sizes: %v", shared)
	}
	if shared["a"][2] == shared["b"][2] || shared["c"][2] != shared["c"][0] || shared["a"][3] != "0" {
		t.Fatalf("unique sizes: %v", shared)
	}
	table := dst.ok(nil, "system", "df", "-v")
	if !strings.Contains(table, "REPOSITORY   TAG       IMAGE ID       CREATED") || !strings.Contains(table, "SHARED SIZE   UNIQUE SIZE   CONTAINERS") {
		t.Fatalf("df -v:\n%s", table)
	}
	summary := lines(dst.ok(nil, "system", "df"))
	if summary[0] != "TYPE            TOTAL     ACTIVE    SIZE      RECLAIMABLE" || !strings.HasPrefix(summary[1], "Images          3         0 ") {
		t.Fatalf("df:\n%s", strings.Join(summary, "\n"))
	}
}

func TestE2EBadInput(t *testing.T) {
	s := newStore(t)
	s.ok(nil, "import", writeFile(t, "rootfs.tar", rootfs(t, "a")), "app:1")
	s.ok(nil, "tag", "app:1", "app:2")
	tests := []struct {
		args           []string
		code           int
		stdout, stderr string // stderr: a substring
	}{
		{[]string{"tag", "app:1", "Foo:bar"}, 1, "", "invalid reference format: repository name (library/Foo) must be lowercase"},
		{[]string{"import", "-", "Foo:bar"}, 1, "", "invalid reference format"},
		{[]string{"rmi", "nope"}, 1, "", "Error: No such image: nope\n"},
		{[]string{"rmi", "-f", "nope"}, 0, "", "Error: No such image: nope\n"},
		{[]string{"inspect", "nope"}, 1, "[]\n", "Error: No such object: nope\n"},
		{[]string{"image", "inspect", "nope"}, 1, "[]\n", "Error: No such image: nope\n"},
		{[]string{"history", "nope"}, 1, "", "Error: No such image: nope\n"},
		{[]string{"images", "--x"}, 125, "", "unknown flag: --x\nSee 'strata images --help'.\n"},
		{[]string{"images", "--filter", "nope=1"}, 1, "", "Error: invalid filter 'nope'\n"},
		{[]string{"images", "--filter", "dangling"}, 125, "", "bad format of filter (expected name=value)"},
		{[]string{"images", "--format", "{{.Nope}}"}, 1, "", "template parsing error"},
		{[]string{"tag", "app:1"}, 1, "", "\"strata tag\" requires exactly 2 arguments.\nSee 'strata tag --help'."},
		{[]string{"save"}, 1, "", "\"strata save\" requires at least 1 argument."},
		{[]string{"load", "-i", "/nonexistent.tar"}, 1, "", "no such file or directory"},
		{[]string{"frobnicate"}, 1, "", "strata: 'frobnicate' is not a strata command.\nSee 'strata --help'\n"},
		{[]string{"--log-level", "loud", "images"}, 1, "", `invalid log level "loud"`},
		// Last: it changes the store. The good name goes, the bad one fails the command.
		{[]string{"rmi", "nope", "app:1"}, 1, "Untagged: app:1\n", "Error: No such image: nope\n"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r := s.run(nil, tt.args...)
			if r.code != tt.code || r.stdout != tt.stdout || !strings.Contains(r.stderr, tt.stderr) {
				t.Fatalf("exit %d, stdout %q, stderr %q; want %d, %q, stderr containing %q",
					r.code, r.stdout, r.stderr, tt.code, tt.stdout, tt.stderr)
			}
		})
	}
}

func TestE2EPrune(t *testing.T) {
	s := newStore(t)
	s.ok(nil, "import", writeFile(t, "a.tar", rootfs(t, "a")), "keep:1")
	old := strings.TrimSpace(s.ok(nil, "import", writeFile(t, "b.tar", rootfs(t, "bb")), "moved:1"))
	s.ok(nil, "import", writeFile(t, "c.tar", rootfs(t, "ccc")), "moved:1")

	r := s.run(strings.NewReader("n\n"), "image", "prune")
	want := "WARNING! This will remove all dangling images.\nAre you sure you want to continue? [y/N] Total reclaimed space: 0B\n"
	if r.code != 0 || r.stdout != want {
		t.Fatalf("declined prune: exit %d, %q", r.code, r.stdout)
	}
	if n := len(lines(s.ok(nil, "images", "-q"))); n != 3 {
		t.Fatalf("%d images after a declined prune, want 3", n)
	}
	out := s.ok(strings.NewReader("y\n"), "image", "prune")
	if !strings.Contains(out, "Deleted Images:\ndeleted: "+old+"\n") || !strings.Contains(out, "\n\nTotal reclaimed space: ") {
		t.Fatalf("prune printed %q", out)
	}
	if got := s.ok(nil, "images", "--format", "{{.Repository}}:{{.Tag}}"); got != "moved:1\nkeep:1\n" {
		t.Fatalf("images after prune: %q", got)
	}
	out = s.ok(nil, "system", "prune", "-a", "-f")
	if !strings.Contains(out, "untagged: keep:1\n") || !strings.Contains(out, "untagged: moved:1\n") {
		t.Fatalf("system prune -a printed %q", out)
	}
	if rows := lines(s.ok(nil, "images", "-a", "-q")); len(rows) != 0 {
		t.Fatalf("images after prune -a: %q", rows)
	}
	if blobs := dirEntries(t, s.root+"/content/blobs/sha256"); len(blobs) != 0 {
		t.Fatalf("blobs left after prune -a: %v", blobs)
	}
}
