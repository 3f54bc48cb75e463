package imagetar

import (
	"bytes"
	"context"
	"slices"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/strata-containers/strata/internal/errdefs"
	"github.com/strata-containers/strata/internal/image"
)

func TestImport(t *testing.T) {
	ctx := context.Background()
	st := newStores(t)
	rootfs := layerTar(t, map[string]string{"bin/app": "#!/bin/sh\n", "etc/motd": "imported\n"})
	opts := ImportOptions{
		Message: "from a tarball",
		Changes: []string{
			`ENTRYPOINT ["/bin/app"]`,
			`CMD --serve`,
			`ENV PATH=/bin GREETING="hello world"`,
			`WORKDIR /srv`,
			`USER nobody`,
			`EXPOSE 8080 53/udp`,
			`LABEL org.example.team=core`,
			`VOLUME /data`,
			`STOPSIGNAL SIGQUIT`,
		},
	}
	id, err := Import(ctx, st, bytes.NewReader(gzipped(t, rootfs)), opts)
	if err != nil {
		t.Fatalf("Import: %v", err)
	}
	img, err := st.Images.Get(ctx, id)
	if err != nil {
		t.Fatalf("the imported image has no record: %v", err)
	}
	m, err := image.ReadManifest(ctx, st.Content, img.Manifest)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := image.ReadConfig(ctx, st.Content, m.Config)
	if err != nil {
		t.Fatal(err)
	}
	diffID := digest.FromBytes(rootfs)
	if len(m.Layers) != 1 || m.Layers[0].Digest != diffID || !slices.Equal(cfg.RootFS.DiffIDs, []digest.Digest{diffID}) {
		t.Fatalf("layers %+v, diff_ids %v; want the uncompressed tarball %s", m.Layers, cfg.RootFS.DiffIDs, diffID)
	}
	c := cfg.Config
	want := ocispec.ImageConfig{
		Entrypoint:   []string{"/bin/app"},
		Cmd:          []string{"/bin/sh", "-c", "--serve"},
		Env:          []string{"PATH=/bin", "GREETING=hello world"},
		WorkingDir:   "/srv",
		User:         "nobody",
		ExposedPorts: map[string]struct{}{"8080/tcp": {}, "53/udp": {}},
		Labels:       map[string]string{"org.example.team": "core"},
		Volumes:      map[string]struct{}{"/data": {}},
		StopSignal:   "SIGQUIT",
	}
	if !equalConfig(c.ImageConfig, want) {
		t.Errorf("config %+v\nwant %+v", c.ImageConfig, want)
	}
	if len(cfg.History) != 1 || cfg.History[0].Comment != "from a tarball" || cfg.Created == nil {
		t.Errorf("history %+v, created %v", cfg.History, cfg.Created)
	}
	if cfg.OS == "" || cfg.Architecture == "" {
		t.Errorf("platform %+v, want the host's", cfg.Platform)
	}
	if got := readFileIn(t, st.Layers, diffID, "etc/motd"); got != "imported\n" {
		t.Errorf("etc/motd = %q", got)
	}
	// The image saves like any other: its blob is the diffID.
	if _, err := Load(ctx, newStores(t), bytes.NewReader(saveBytes(t, st, SaveImage{ID: id}))); err != nil {
		t.Errorf("save and load of the imported image: %v", err)
	}
}

func equalConfig(a, b ocispec.ImageConfig) bool {
	return slices.Equal(a.Entrypoint, b.Entrypoint) && slices.Equal(a.Cmd, b.Cmd) && slices.Equal(a.Env, b.Env) &&
		a.WorkingDir == b.WorkingDir && a.User == b.User && a.StopSignal == b.StopSignal &&
		len(a.ExposedPorts) == len(b.ExposedPorts) && len(a.Volumes) == len(b.Volumes) &&
		len(a.Labels) == len(b.Labels) && a.Labels["org.example.team"] == b.Labels["org.example.team"] &&
		hasKeys(a.ExposedPorts, b.ExposedPorts) && hasKeys(a.Volumes, b.Volumes)
}

func hasKeys(a, b map[string]struct{}) bool {
	for k := range b {
		if _, ok := a[k]; !ok {
			return false
		}
	}
	return true
}

func TestImportPlatformAndBadChange(t *testing.T) {
	ctx := context.Background()
	st := newStores(t)
	rootfs := layerTar(t, map[string]string{"f": "x"})
	_, err := Import(ctx, st, bytes.NewReader(rootfs), ImportOptions{Changes: []string{"RUN rm -rf /"}})
	if !errdefs.IsInvalid(err) {
		t.Fatalf("Import with RUN: %v, want errdefs.ErrInvalid", err)
	}
	if _, err := Import(ctx, st, bytes.NewReader(bytes.Repeat([]byte("junk"), 300)), ImportOptions{}); !errdefs.IsInvalid(err) {
		t.Fatalf("Import of a non-tar: %v, want errdefs.ErrInvalid", err)
	}
	if imgs, _ := st.Images.List(ctx); len(imgs) != 0 {
		t.Fatalf("failed imports left %d images", len(imgs))
	}
	id, err := Import(ctx, st, bytes.NewReader(rootfs), ImportOptions{Platform: ocispec.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}})
	if err != nil {
		t.Fatal(err)
	}
	img, _ := st.Images.Get(ctx, id)
	m, _ := image.ReadManifest(ctx, st.Content, img.Manifest)
	cfg, err := image.ReadConfig(ctx, st.Content, m.Config)
	if err != nil || cfg.Architecture != "arm64" || cfg.Variant != "v8" {
		t.Fatalf("platform %+v (%v)", cfg.Platform, err)
	}
}
