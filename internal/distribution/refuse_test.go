package distribution

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/strata-containers/strata/internal/errdefs"
	"github.com/strata-containers/strata/internal/registry"
)

// TestPullRefusesWhatIsNotAnImage serves documents strata must refuse by
// name: a schema 1 manifest and an artifact whose config is no image config.
func TestPullRefusesWhatIsNotAnImage(t *testing.T) {
	const artifactConfig = `{}`
	docs := map[string]struct{ contentType, body, want string }{
		"schema1": {"application/vnd.docker.distribution.manifest.v1+prettyjws",
			`{"schemaVersion":1,"name":"x/y","tag":"schema1","fsLayers":[]}`, "schema 1"},
		"unknown": {"application/vnd.example.thing.v1+json", `{"schemaVersion":2}`, "unexpected media type"},
		"artifact": {"application/vnd.oci.image.manifest.v1+json",
			`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.cncf.helm.config.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[]}`,
			"unexpected media type"},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/v2/":
		case strings.HasPrefix(r.URL.Path, "/v2/x/y/manifests/"):
			d, ok := docs[strings.TrimPrefix(r.URL.Path, "/v2/x/y/manifests/")]
			if !ok {
				http.NotFound(w, r)
				return
			}
			w.Header().Set("Content-Type", d.contentType)
			w.Write([]byte(d.body))
		case strings.HasPrefix(r.URL.Path, "/v2/x/y/blobs/"):
			w.Write([]byte(artifactConfig))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	c := fastClient(registry.Options{})
	for tag, d := range docs {
		t.Run(tag, func(t *testing.T) {
			st := openStores(t)
			_, err := pull(st, c, host+"/x/y:"+tag, PullOptions{})
			if !errdefs.IsInvalid(err) || !strings.Contains(err.Error(), d.want) {
				t.Fatalf("pull = %v, want an invalid-argument error saying %q", err, d.want)
			}
		})
	}
}
