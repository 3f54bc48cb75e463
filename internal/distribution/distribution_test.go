package distribution

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/strata-containers/strata/internal/errdefs"
	"github.com/strata-containers/strata/internal/image"
	"github.com/strata-containers/strata/internal/registry"
	treg "github.com/strata-containers/strata/internal/testutil/registry"
)

// fastClient retries quickly, so fault tests do not wait out real backoffs.
func fastClient(opts registry.Options) *registry.Client {
	opts.Backoff = 10_000_000 // 10ms
	return registry.New(opts)
}

var (
	base = testLayer{"etc/os-release": "ID=strata-test\n", "bin/base": "base layer\n"}
	top1 = testLayer{"app/one": strings.Repeat("one ", 50000)}
	top2 = testLayer{"app/two": strings.Repeat("two ", 50000)}
)

func TestPushPullRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name  string
		chunk int64
		comps []string
	}{
		{"monolithic gzip", 0, nil},
		{"chunked gzip", 4096, nil},
		{"zstd over uncompressed", 0, []string{"none", "zstd"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := treg.Start(t, treg.HTTP)
			src := openStores(t)
			img := makeImageComp(t, src, r.Host+"/test/app:v1", tc.comps, base, top1)
			c := fastClient(registry.Options{ChunkSize: tc.chunk})
			pushed := push(t, src, c, img, r.Host+"/test/app:v1", PushOptions{})
			if pushed.Digest != img.Manifest.Digest || pushed.Tag != "v1" {
				t.Fatalf("pushed %+v, want digest %s", pushed, img.Manifest.Digest)
			}

			dst := openStores(t)
			got, err := pull(dst, c, r.Host+"/test/app:v1", PullOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if got.ID != img.ID || got.Digest != img.Manifest.Digest || got.Fetched != 2 {
				t.Fatalf("pulled %+v, want ID %s digest %s and 2 layers", got, img.ID, img.Manifest.Digest)
			}
			checkPulled(t, dst, r.Host+"/test/app:v1", img.ID)
		})
	}
}

// checkPulled asserts that name resolves to id and its layers' files are on disk.
func checkPulled(t *testing.T, st Stores, name string, id digest.Digest) {
	t.Helper()
	ctx := context.Background()
	img, err := st.Images.Resolve(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	if img.ID != id {
		t.Fatalf("%s is %s, want %s", name, img.ID, id)
	}
	m, err := image.ReadManifest(ctx, st.Content, img.Manifest)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := image.ReadConfig(ctx, st.Content, m.Config)
	if err != nil {
		t.Fatal(err)
	}
	chain := image.ChainIDs(cfg.RootFS.DiffIDs)
	if got := layerFile(t, st, chain[0], "etc/os-release"); got != base["etc/os-release"] {
		t.Fatalf("os-release = %q", got)
	}
	for _, l := range m.Layers {
		if _, err := st.Content.Info(ctx, l.Digest); err != nil {
			t.Fatalf("layer blob %s not stored: %v", l.Digest, err)
		}
	}
}

func TestPullSharedBaseFetchesOnlyNewLayers(t *testing.T) {
	r := treg.Start(t, treg.HTTP)
	p := treg.NewProxy(t, r, false)
	src := openStores(t)
	c := fastClient(registry.Options{})
	a := makeImage(t, src, p.Host+"/test/a:1", base, top1)
	b := makeImage(t, src, p.Host+"/test/b:1", base, top2)
	push(t, src, c, a, p.Host+"/test/a:1", PushOptions{})
	push(t, src, c, b, p.Host+"/test/b:1", PushOptions{})

	dst := openStores(t)
	if _, err := pull(dst, c, p.Host+"/test/a:1", PullOptions{}); err != nil {
		t.Fatal(err)
	}
	before := p.Served()
	got, err := pull(dst, c, p.Host+"/test/b:1", PullOptions{})
	if err != nil {
		t.Fatal(err)
	}
	m, err := image.ReadManifest(context.Background(), src.Content, b.Manifest)
	if err != nil {
		t.Fatal(err)
	}
	if got.Fetched != 1 {
		t.Fatalf("fetched %d layers, want only the new one", got.Fetched)
	}
	served := p.Served() - before
	if want := m.Layers[1].Size + m.Config.Size; served != want {
		t.Fatalf("second pull served %d blob bytes, want %d (top layer + config)", served, want)
	}
	checkPulled(t, dst, p.Host+"/test/b:1", b.ID)
}

func TestPullRecoversFromTransientFaults(t *testing.T) {
	r := treg.Start(t, treg.HTTP)
	p := treg.NewProxy(t, r, false)
	src := openStores(t)
	c := fastClient(registry.Options{})
	img := makeImage(t, src, p.Host+"/test/f:1", base, top1)
	push(t, src, c, img, p.Host+"/test/f:1", PushOptions{})
	layer := layerDigests(t, src, img)[1].String()
	for _, tc := range []struct {
		name   string
		faults []treg.Fault
	}{
		{"cut then resume", []treg.Fault{treg.Cut, treg.Cut}},
		{"reset", []treg.Fault{treg.Reset, treg.Reset}},
		{"429 retry-after", []treg.Fault{treg.TooMany}},
		{"503", []treg.Fault{treg.Unavailable, treg.Unavailable}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dst := openStores(t)
			rangesBefore := len(p.Ranges())
			p.InjectOn(layer, tc.faults...)
			if _, err := pull(dst, c, p.Host+"/test/f:1", PullOptions{}); err != nil {
				t.Fatal(err)
			}
			checkPulled(t, dst, p.Host+"/test/f:1", img.ID)
			if tc.faults[0] == treg.Cut {
				ranges := p.Ranges()[rangesBefore:]
				if len(ranges) < 2 || !strings.HasPrefix(ranges[0], "bytes=") || ranges[0] == "bytes=0-" {
					t.Fatalf("want two resuming Range requests after two cuts, got %q", ranges)
				}
			}
		})
	}
}

func TestPullRejectsBadBytes(t *testing.T) {
	r := treg.Start(t, treg.HTTP)
	p := treg.NewProxy(t, r, false)
	src := openStores(t)
	c := fastClient(registry.Options{Retries: 2})
	name := p.Host + "/test/bad:1"
	img := makeImage(t, src, name, base, top1)
	push(t, src, c, img, name, PushOptions{})
	layers := layerDigests(t, src, img)
	badDiffID := diffIDs(t, src, img)[1]
	for _, tc := range []struct {
		name    string
		key     string
		faults  []treg.Fault
		pullRef string
		check   func(error) bool
	}{
		{"corrupt layer", layers[1].String(), []treg.Fault{treg.Corrupt}, name, errdefs.IsDataLoss},
		{"corrupt config", "/blobs/sha256:", []treg.Fault{treg.Corrupt}, name, errdefs.IsDataLoss},
		{"truncated every time", layers[1].String(), []treg.Fault{treg.Cut, treg.Cut, treg.Cut, treg.Cut}, name, errdefs.IsUnavailable},
		{"manifest not matching its digest", "/manifests/", []treg.Fault{treg.Corrupt},
			p.Host + "/test/bad@" + img.Manifest.Digest.String(), errdefs.IsDataLoss},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dst := openStores(t)
			p.InjectOn(tc.key, tc.faults...)
			_, err := pull(dst, c, tc.pullRef, PullOptions{})
			if !tc.check(err) {
				t.Fatalf("pull = %v, want a different class of error", err)
			}
			assertNothingVisible(t, dst, tc.pullRef, badDiffID)
			if _, err := dst.Content.Info(context.Background(), layers[1]); !errdefs.IsNotFound(err) {
				t.Fatalf("the bad layer blob was stored: %v", err)
			}
		})
	}
}

func diffIDs(t *testing.T, st Stores, img image.Image) []digest.Digest {
	t.Helper()
	m, err := image.ReadManifest(context.Background(), st.Content, img.Manifest)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := image.ReadConfig(context.Background(), st.Content, m.Config)
	if err != nil {
		t.Fatal(err)
	}
	return cfg.RootFS.DiffIDs
}

func layerDigests(t *testing.T, st Stores, img image.Image) []digest.Digest {
	t.Helper()
	m, err := image.ReadManifest(context.Background(), st.Content, img.Manifest)
	if err != nil {
		t.Fatal(err)
	}
	var out []digest.Digest
	for _, l := range m.Layers {
		out = append(out, l.Digest)
	}
	return out
}

func TestPullByDigest(t *testing.T) {
	r := treg.Start(t, treg.HTTP)
	src := openStores(t)
	c := fastClient(registry.Options{})
	img := makeImage(t, src, r.Host+"/test/d:1", base)
	push(t, src, c, img, r.Host+"/test/d:1", PushOptions{})

	dst := openStores(t)
	name := r.Host + "/test/d@" + img.Manifest.Digest.String()
	if _, err := pull(dst, c, name, PullOptions{}); err != nil {
		t.Fatal(err)
	}
	checkPulled(t, dst, name, img.ID)

	wrong := r.Host + "/test/d@" + digest.FromString("something else").String()
	other := openStores(t)
	if _, err := pull(other, c, wrong, PullOptions{}); err == nil {
		t.Fatal("pull of an unknown digest succeeded")
	}
	assertNothingVisible(t, other, wrong, diffIDs(t, src, img)[0])
}

// assertNothingVisible checks that a failed pull left no image and not the
// layer whose download failed (others, downloaded whole, may stay for the
// next try, as docker keeps them).
func assertNothingVisible(t *testing.T, st Stores, name string, bad digest.Digest) {
	t.Helper()
	ctx := context.Background()
	if _, err := st.Images.Resolve(ctx, name); !errdefs.IsNotFound(err) {
		t.Fatalf("after a failed pull, %s resolves: %v", name, err)
	}
	if imgs, _ := st.Images.List(ctx); len(imgs) != 0 {
		t.Fatalf("after a failed pull, the store has images: %v", imgs)
	}
	ls, err := st.Layers.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range ls {
		if l.DiffID == bad {
			t.Fatalf("after a failed pull, the store has the failed layer %s", bad)
		}
	}
}

func TestBearerTokenReusedAcrossLayers(t *testing.T) {
	r := treg.Start(t, treg.HTTP)
	p := treg.NewProxy(t, r, true)
	src := openStores(t)
	c := fastClient(registry.Options{})
	img := makeImage(t, src, p.Host+"/test/tok:1", base, top1, top2)
	push(t, src, c, img, p.Host+"/test/tok:1", PushOptions{})

	pc := fastClient(registry.Options{})
	dst := openStores(t)
	if _, err := pull(dst, pc, p.Host+"/test/tok:1", PullOptions{}); err != nil {
		t.Fatal(err)
	}
	if n := pc.TokenRequests(p.Host); n != 1 {
		t.Fatalf("pull of 3 layers fetched %d tokens, want 1", n)
	}
}

func TestPushMountsFromSiblingRepository(t *testing.T) {
	r := treg.Start(t, treg.HTTP)
	src := openStores(t)
	c := fastClient(registry.Options{})
	img := makeImage(t, src, r.Host+"/test/one:1", base, top1)
	push(t, src, c, img, r.Host+"/test/one:1", PushOptions{})

	var mu sync.Mutex
	var steps []string
	progress := func(p Progress) {
		mu.Lock()
		defer mu.Unlock()
		steps = append(steps, p.Status)
	}
	push(t, src, c, img, r.Host+"/test/two:1", PushOptions{MountFrom: []string{"test/one"}, Progress: progress})
	if !slices.Contains(steps, "Mounted from test/one") || slices.Contains(steps, "Pushed") {
		t.Fatalf("second push steps %q: want blobs mounted, none uploaded", steps)
	}
	dst := openStores(t)
	if _, err := pull(dst, c, r.Host+"/test/two:1", PullOptions{}); err != nil {
		t.Fatal(err)
	}
	checkPulled(t, dst, r.Host+"/test/two:1", img.ID)
}

func TestTLSCAFromCertsDir(t *testing.T) {
	r := treg.Start(t, treg.TLS)
	src := openStores(t)
	img := makeImage(t, src, r.Host+"/test/tls:1", base)
	c := fastClient(registry.Options{CertsDirs: []string{r.CertsDir}})
	push(t, src, c, img, r.Host+"/test/tls:1", PushOptions{})
	dst := openStores(t)
	if _, err := pull(dst, c, r.Host+"/test/tls:1", PullOptions{}); err != nil {
		t.Fatal(err)
	}

	unknownCA := fastClient(registry.Options{})
	_, err := pull(openStores(t), unknownCA, r.Host+"/test/tls:1", PullOptions{})
	if err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("pull without the CA = %v, want a certificate error", err)
	}
	insecure := fastClient(registry.Options{SkipTLSVerify: true})
	if _, err := pull(openStores(t), insecure, r.Host+"/test/tls:1", PullOptions{}); err != nil {
		t.Fatalf("pull with --tls-verify=false: %v", err)
	}
	listed := fastClient(registry.Options{Insecure: []string{r.Host}})
	if _, err := pull(openStores(t), listed, r.Host+"/test/tls:1", PullOptions{}); err != nil {
		t.Fatalf("pull from a registry listed as insecure: %v", err)
	}
}

func TestTLSClientCertificate(t *testing.T) {
	r := treg.Start(t, treg.TLSClientCert)
	src := openStores(t)
	img := makeImage(t, src, r.Host+"/test/mtls:1", base)
	c := fastClient(registry.Options{CertsDirs: []string{r.CertsDir}})
	push(t, src, c, img, r.Host+"/test/mtls:1", PushOptions{})
	if _, err := pull(openStores(t), c, r.Host+"/test/mtls:1", PullOptions{}); err != nil {
		t.Fatal(err)
	}
	noCert := fastClient(registry.Options{SkipTLSVerify: true})
	if _, err := pull(openStores(t), noCert, r.Host+"/test/mtls:1", PullOptions{}); err == nil {
		t.Fatal("pull without the client certificate succeeded")
	}
}

func TestTLSBasicAuth(t *testing.T) {
	r := treg.Start(t, treg.TLSAuth)
	src := openStores(t)
	img := makeImage(t, src, r.Host+"/test/auth:1", base)
	anon := fastClient(registry.Options{CertsDirs: []string{r.CertsDir}})
	ref := r.Host + "/test/auth:1"
	_, err := pull(openStores(t), anon, ref, PullOptions{})
	var re *registry.Error
	if !errors.As(err, &re) || re.Status != 401 {
		t.Fatalf("anonymous pull = %v, want 401", err)
	}
	if err := anon.Login(context.Background(), r.Host, registry.Credential{Username: treg.User, Secret: "wrong"}); err == nil {
		t.Fatal("login with a wrong password succeeded")
	}
	cred := registry.Credential{Username: treg.User, Secret: treg.Password}
	if err := anon.Login(context.Background(), r.Host, cred); err != nil {
		t.Fatal(err)
	}
	c := fastClient(registry.Options{CertsDirs: []string{r.CertsDir},
		Credentials: func(context.Context, string) (registry.Credential, error) { return cred, nil }})
	push(t, src, c, img, ref, PushOptions{})
	dst := openStores(t)
	if _, err := pull(dst, c, ref, PullOptions{}); err != nil {
		t.Fatal(err)
	}
	checkPulled(t, dst, ref, img.ID)
}

func TestConcurrentPullsOfOneImage(t *testing.T) {
	r := treg.Start(t, treg.HTTP)
	src := openStores(t)
	c := fastClient(registry.Options{})
	name := r.Host + "/test/race:1"
	img := makeImage(t, src, name, base, top1, top2)
	push(t, src, c, img, name, PushOptions{})

	dst := openStores(t)
	errs := make(chan error, 3)
	for range 3 {
		go func() {
			_, err := pull(dst, fastClient(registry.Options{}), name, PullOptions{})
			errs <- err
		}()
	}
	for range 3 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	checkPulled(t, dst, name, img.ID)
}
