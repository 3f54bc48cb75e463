package imagetar

import (
	"reflect"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/strata-containers/strata/internal/errdefs"
)

func TestApplyChanges(t *testing.T) {
	type set = map[string]struct{}
	for _, tc := range []struct {
		name    string
		changes []string
		want    ocispec.ImageConfig
	}{
		{"cmd exec form", []string{`CMD ["echo", "hi there"]`}, ocispec.ImageConfig{Cmd: []string{"echo", "hi there"}}},
		{"cmd shell form", []string{`CMD echo "hi"  there`}, ocispec.ImageConfig{Cmd: []string{"/bin/sh", "-c", `echo "hi"  there`}}},
		{"cmd empty exec form", []string{`CMD []`}, ocispec.ImageConfig{Cmd: []string{}}},
		{"lower-case keyword", []string{`cmd ["x"]`}, ocispec.ImageConfig{Cmd: []string{"x"}}},
		{"entrypoint drops earlier-unset cmd", []string{`ENTRYPOINT ["/init"]`}, ocispec.ImageConfig{Entrypoint: []string{"/init"}}},
		{"entrypoint keeps cmd set before", []string{`CMD ["a"]`, `ENTRYPOINT /init --x`},
			ocispec.ImageConfig{Cmd: []string{"a"}, Entrypoint: []string{"/bin/sh", "-c", "/init --x"}}},
		{"env forms", []string{`ENV A=1 B="two words" C='$x'`, `ENV D the rest  of it`, `ENV A=3`},
			ocispec.ImageConfig{Env: []string{"A=3", "B=two words", "C=$x", "D=the rest  of it"}}},
		{"env escaped space", []string{`ENV P=a\ b`}, ocispec.ImageConfig{Env: []string{"P=a b"}}},
		{"workdir", []string{`WORKDIR /srv`, `WORKDIR app/`}, ocispec.ImageConfig{WorkingDir: "/srv/app"}},
		{"relative workdir", []string{`WORKDIR data`}, ocispec.ImageConfig{WorkingDir: "/data"}},
		{"user", []string{`USER 1000:1000`}, ocispec.ImageConfig{User: "1000:1000"}},
		{"expose", []string{`EXPOSE 80 53/udp`, `EXPOSE 8000-8002/TCP`},
			ocispec.ImageConfig{ExposedPorts: set{"80/tcp": {}, "53/udp": {}, "8000/tcp": {}, "8001/tcp": {}, "8002/tcp": {}}}},
		{"label", []string{`LABEL a=b "com.x.y"="v w"`, `LABEL legacy some value`},
			ocispec.ImageConfig{Labels: map[string]string{"a": "b", "com.x.y": "v w", "legacy": "some value"}}},
		{"volume forms", []string{`VOLUME ["/data", "/logs"]`, `VOLUME /cache /tmp/x`},
			ocispec.ImageConfig{Volumes: set{"/data": {}, "/logs": {}, "/cache": {}, "/tmp/x": {}}}},
		{"stopsignal", []string{`STOPSIGNAL SIGINT`}, ocispec.ImageConfig{StopSignal: "SIGINT"}},
		{"stopsignal number", []string{`STOPSIGNAL 9`}, ocispec.ImageConfig{StopSignal: "9"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got ocispec.ImageConfig
			if err := ApplyChanges(&got, tc.changes); err != nil {
				t.Fatalf("ApplyChanges: %v", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestApplyChangesInvalid(t *testing.T) {
	for _, change := range []string{
		"RUN echo hi",
		"FROM busybox",
		"COPY a b",
		"HEALTHCHECK NONE",
		"",
		"CMD",
		"ENV",
		"ENV A",
		"ENV A=1 B",
		`ENV A="unterminated`,
		"EXPOSE 0",
		"EXPOSE 70000",
		"EXPOSE 80/xyz",
		"EXPOSE 90-80",
		"USER a b",
		"STOPSIGNAL SIGNOPE",
		"STOPSIGNAL 99",
		"VOLUME",
		`VOLUME [""]`,
		"WORKDIR",
	} {
		t.Run(change, func(t *testing.T) {
			var cfg ocispec.ImageConfig
			err := ApplyChanges(&cfg, []string{change})
			if !errdefs.IsInvalid(err) {
				t.Fatalf("ApplyChanges(%q) = %v, want an errdefs.ErrInvalid error", change, err)
			}
		})
	}
}
