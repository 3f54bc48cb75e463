package build

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/opencontainers/go-digest"

	"github.com/strata-containers/strata/internal/errdefs"
)

func parse(t *testing.T, dockerfile string, args map[string]string) (*builder, error) {
	t.Helper()
	return newBuilder(nil, Options{Dockerfile: []byte(dockerfile), BuildArgs: args, CacheDir: t.TempDir()})
}

func TestParseErrorsNameTheLine(t *testing.T) {
	for dockerfile, want := range map[string]string{
		"FROM busybox\nFROBNICATE x\n":              "line 2: unknown instruction: FROBNICATE",
		"RUN echo no stage\n":                       "no build stage",
		"FROM busybox\nCOPY\n":                      "line 2",
		"# just a comment\n":                        "file with no instructions",
		"FROM busybox\nRUN echo \\\n  ok\nEXPOSE\n": "line 4",
	} {
		_, err := parse(t, dockerfile, nil)
		if err == nil || !strings.Contains(err.Error(), want) || !errdefs.IsInvalid(err) {
			t.Errorf("%q: error %v, want an invalid-class error containing %q", dockerfile, err, want)
		}
	}
}

func TestArgScopes(t *testing.T) {
	b, err := parse(t, "ARG BASE=alpine\nARG TAG=${BASE}-1\nFROM $BASE:$TAG\nARG TAG\nARG LOCAL=x\n", map[string]string{"BASE": "debian"})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := b.meta.expand(b.lex, b.stages[0].BaseName); got != "debian:debian-1" {
		t.Errorf("FROM expands to %q; a build arg overrides the global default", got)
	}
	if b.meta.vals["TARGETOS"] == nil || *b.meta.vals["TARGETOS"] != "linux" {
		t.Error("TARGETOS is not predefined in the global scope")
	}
	st := &state{args: newArgScope()}
	for _, cmd := range b.stages[0].Commands {
		if err := b.dispatchArgOnly(st, cmd.(*instructions.ArgCommand)); err != nil {
			t.Fatal(err)
		}
	}
	// An ARG without value in a stage takes the global one.
	if env := st.args.env(); !slices.Equal(env, []string{"TAG=debian-1", "LOCAL=x"}) {
		t.Errorf("stage args %v", env)
	}
}

// dispatchArgOnly declares an ARG's values without touching the cache.
func (b *builder) dispatchArgOnly(st *state, a *instructions.ArgCommand) error {
	for _, kv := range a.Args {
		v, err := b.argValue(kv, st.expansionEnv(), b.meta)
		if err != nil {
			return err
		}
		st.args.set(kv.Key, v)
	}
	return nil
}

func TestArgUsedBeforeDeclared(t *testing.T) {
	b, err := parse(t, "FROM scratch\nCOPY ${SRC:-x} /dst\nARG SRC\nCOPY $OTHER /\n", nil)
	if err != nil {
		t.Fatal(err)
	}
	st := &state{args: newArgScope()}
	cmds := b.stages[0].Commands
	err = b.expandCommand(st, cmds[0], declaredFrom(cmds[1:]))
	if err == nil || !strings.Contains(err.Error(), "ARG SRC is used before it is declared") {
		t.Errorf("use before ARG: %v", err)
	}
	// A variable no ARG declares is simply empty, as in Docker.
	if err := b.expandCommand(st, cmds[2], declaredFrom(cmds[3:])); err != nil {
		t.Errorf("undeclared variable: %v", err)
	}
}

func TestRunEnvAndHeredoc(t *testing.T) {
	b, err := parse(t, "FROM scratch\nRUN <<EOF\necho hi\nEOF\nRUN [\"/bin/true\", \"x\"]\nRUN echo $A\n", map[string]string{"http_proxy": "p"})
	if err != nil {
		t.Fatal(err)
	}
	st := &state{args: newArgScope()}
	st.cfg.Config.Env = []string{"A=env"}
	v := "arg"
	st.args.set("A", &v)
	st.args.set("B", &v)
	cmds := b.stages[0].Commands
	want := [][]string{{"/bin/sh", "-c", "echo hi\n"}, {"/bin/true", "x"}, {"/bin/sh", "-c", "echo $A"}}
	for i, cmd := range cmds {
		argv, err := runArgs(st, cmd.(*instructions.RunCommand))
		if err != nil || !slices.Equal(argv, want[i]) {
			t.Errorf("RUN %d: %q, %v; want %q", i, argv, err, want[i])
		}
	}
	// ENV wins over an ARG of the same name; proxies pass undeclared.
	if env := st.runEnv(b.opts.BuildArgs); !slices.Equal(env, []string{"A=env", "B=arg", "http_proxy=p"}) {
		t.Errorf("RUN env %v", env)
	}
}

func TestScopedPath(t *testing.T) {
	root := t.TempDir()
	outside := t.TempDir()
	mustMkdir(t, filepath.Join(root, "dir"))
	mustSymlink(t, "dir", filepath.Join(root, "in"))
	mustSymlink(t, "../../..", filepath.Join(root, "dir", "up"))
	mustSymlink(t, outside, filepath.Join(root, "abs"))
	if got, err := scopedPath(root, "in/x", true); err != nil || got != filepath.Join(root, "dir", "x") {
		t.Errorf("in/x = %q, %v", got, err)
	}
	for _, p := range []string{"abs", "dir/up/etc", "abs/x"} {
		if _, err := scopedPath(root, p, true); err == nil {
			t.Errorf("%s resolved although it leaves the context", p)
		}
	}
	// In an image's rootfs, links are taken from its root instead.
	if got, err := scopedPath(root, "dir/up/dir", false); err != nil || got != filepath.Join(root, "dir") {
		t.Errorf("rootfs dir/up/dir = %q, %v", got, err)
	}
	if _, err := cleanSource("COPY", "../x"); err == nil {
		t.Error("../x was accepted as a source")
	}
	if got, err := cleanSource("COPY", "..data"); err != nil || got != "..data" {
		t.Errorf("cleanSource(..data) = %q, %v: a name that starts with two dots is not a parent", got, err)
	}
	if got, err := cleanSource("COPY", "/abs/../x"); err != nil || got != "x" {
		t.Errorf("cleanSource(/abs/../x) = %q, %v", got, err)
	}
	if got, err := cleanSource("COPY", "./a/../b/"); err != nil || got != "b" {
		t.Errorf("cleanSource(./a/../b/) = %q, %v", got, err)
	}
}

func TestGlob(t *testing.T) {
	root := t.TempDir()
	for _, f := range []string{"a.txt", "b.txt", "c.md", "sub/d.txt", "sub/e.md"} {
		mustMkdir(t, filepath.Dir(filepath.Join(root, f)))
		if err := os.WriteFile(filepath.Join(root, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := glob(root, "*.txt", nil)
	if err != nil || !slices.Equal(got, []string{"a.txt", "b.txt"}) {
		t.Errorf("*.txt = %v, %v", got, err)
	}
	if got, _ := glob(root, "s*/*.md", nil); !slices.Equal(got, []string{"sub/e.md"}) {
		t.Errorf("s*/*.md = %v", got)
	}
}

func TestCacheRoundTripAndPrune(t *testing.T) {
	c, err := OpenCache(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	k1, k2 := digest.FromString("one"), digest.FromString("two")
	if err := c.Put(k1, Entry{Config: []byte(`{"a":1}`), Chain: digest.FromString("c1")}); err != nil {
		t.Fatal(err)
	}
	if err := c.Put(k2, Entry{Config: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	if e, ok := c.Get(k1); !ok || string(e.Config) != `{"a":1}` {
		t.Fatalf("Get = %+v, %v", e, ok)
	}
	gone, err := c.Prune(context.Background(), func(e Entry) bool { return e.Chain == "" })
	if err != nil || len(gone) != 1 || gone[0] != k1 {
		t.Fatalf("Prune = %v, %v; want [%s]", gone, err, k1)
	}
	if _, ok := c.Get(k1); ok {
		t.Error("pruned entry still there")
	}
	if ents, _ := c.Entries(context.Background()); len(ents) != 1 {
		t.Errorf("entries after prune: %v", ents)
	}
}

func mustMkdir(t *testing.T, p string) {
	t.Helper()
	if err := os.MkdirAll(p, 0o755); err != nil {
		t.Fatal(err)
	}
}

func mustSymlink(t *testing.T, target, p string) {
	t.Helper()
	if err := os.Symlink(target, p); err != nil {
		t.Fatal(err)
	}
}

func TestEscapeDirectiveAndModifiers(t *testing.T) {
	dockerfile := "# escape=`\nFROM scratch\nLABEL x=\"${A:+alt}\" y=\"${B:-dflt}\" z=C:\\path\nCOPY a `\n  b /\n"
	b, err := parse(t, dockerfile, nil)
	if err != nil {
		t.Fatal(err)
	}
	st := &state{args: newArgScope()}
	st.cfg.Config.Env = []string{"A=set"}
	cmds := b.stages[0].Commands
	if err := b.expandCommand(st, cmds[0], nil); err != nil {
		t.Fatal(err)
	}
	if _, err := applyMeta(&st.cfg.Config, cmds[0]); err != nil {
		t.Fatal(err)
	}
	// ${A:+alt} and ${B:-dflt}; with ` as the escape a backslash is an
	// ordinary character.
	if l := st.cfg.Config.Labels; l["x"] != "alt" || l["y"] != "dflt" || l["z"] != `C:\path` {
		t.Errorf("labels %q", l)
	}
	if c, ok := cmds[1].(*instructions.CopyCommand); !ok || !slices.Equal(c.SourcePaths, []string{"a", "b"}) {
		t.Errorf("COPY with a ` continuation: %+v", cmds[1])
	}
}

// The memo never hides a change: a file rewritten with the same size and
// its old mtime has a new ctime, so it is read again.
func TestHashMemo(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "f")
	if err := os.WriteFile(f, []byte("aaaa"), 0o644); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(f)
	m := loadHashMemo(filepath.Join(dir, "memo"))
	h1, err := m.fileHash(f, fi)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.save(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f, []byte("bbbb"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(f, fi.ModTime(), fi.ModTime()); err != nil {
		t.Fatal(err)
	}
	fi2, _ := os.Stat(f)
	m2 := loadHashMemo(filepath.Join(dir, "memo"))
	h2, err := m2.fileHash(f, fi2)
	if err != nil || h2 == h1 {
		t.Errorf("rewritten file: hash %s (was %s), %v", h2, h1, err)
	}
	if again, _ := m2.fileHash(f, fi2); again != h2 {
		t.Errorf("memo gave %s, want %s", again, h2)
	}
}
