package registry

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	dref "github.com/distribution/reference"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/strata-containers/strata/internal/errdefs"
)

// fakeRegistry answers /v2/ and nothing else of the API; foreign serves a
// blob at /foreign, as a layer's URLs may name.
func fakeRegistry(t *testing.T, blob []byte) (*httptest.Server, *Repo) {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v2/":
		case "/foreign":
			_, _ = w.Write(blob)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	ref, err := dref.ParseNormalizedNamed(strings.TrimPrefix(srv.URL, "http://") + "/x/y:1")
	if err != nil {
		t.Fatal(err)
	}
	repo, err := New(Options{Backoff: 1}).Repository(context.Background(), ref, false)
	if err != nil {
		t.Fatal(err)
	}
	return srv, repo
}

func TestOpenBlobFollowsForeignURLs(t *testing.T) {
	blob := []byte("a foreign layer's bytes")
	srv, repo := fakeRegistry(t, blob)
	desc := ocispec.Descriptor{Digest: digest.FromBytes(blob), Size: int64(len(blob)), URLs: []string{srv.URL + "/foreign"}}
	rc := repo.OpenBlob(context.Background(), desc)
	defer rc.Close()
	got, err := io.ReadAll(rc)
	if err != nil || string(got) != string(blob) {
		t.Fatalf("read %q, %v", got, err)
	}

	desc.URLs = nil // the registry itself does not have it
	rc = repo.OpenBlob(context.Background(), desc)
	defer rc.Close()
	if _, err := io.ReadAll(rc); !errdefs.IsNotFound(err) {
		t.Fatalf("blob without URLs = %v, want not found", err)
	}
}

func TestOpenBlobRejectsWrongSize(t *testing.T) {
	blob := []byte("twelve bytes")
	srv, repo := fakeRegistry(t, blob)
	for _, size := range []int64{5, 20} {
		desc := ocispec.Descriptor{Digest: digest.FromBytes(blob), Size: size, URLs: []string{srv.URL + "/foreign"}}
		rc := repo.OpenBlob(context.Background(), desc)
		_, err := io.ReadAll(rc)
		rc.Close()
		if err == nil {
			t.Fatalf("size %d: read succeeded", size)
		}
	}
}
