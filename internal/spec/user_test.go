package spec

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/strata-containers/strata/internal/errdefs"
)

func newRootfs(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	if err := os.Mkdir(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(root, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestResolveUser(t *testing.T) {
	root := newRootfs(t, map[string]string{
		"etc/passwd": "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1001:App:/home/app:/bin/sh\n# comment\n",
		"etc/group":  "root:x:0:\nwheel:x:10:root,app\napp:x:1001:\nstaff:x:50:app\n",
	})
	cases := []struct {
		user string
		want User
	}{
		{"", User{UID: 0, GID: 0, AdditionalGids: []uint32{0, 10}, Home: "/root"}},
		{"app", User{UID: 1000, GID: 1001, AdditionalGids: []uint32{1001, 10, 50}, Home: "/home/app"}},
		{"1000", User{UID: 1000, GID: 1001, AdditionalGids: []uint32{1001, 10, 50}, Home: "/home/app"}},
		{"app:staff", User{UID: 1000, GID: 50, Home: "/home/app"}},
		{"4242", User{UID: 4242, GID: 0, Home: "/"}},
		{"4242:77", User{UID: 4242, GID: 77, Home: "/"}},
	}
	for _, c := range cases {
		t.Run(c.user, func(t *testing.T) {
			got, err := ResolveUser(root, c.user)
			if err != nil {
				t.Fatal(err)
			}
			if got.UID != c.want.UID || got.GID != c.want.GID || got.Home != c.want.Home ||
				!slices.Equal(got.AdditionalGids, c.want.AdditionalGids) {
				t.Errorf("got %+v, want %+v", got, c.want)
			}
		})
	}
	_, err := ResolveUser(root, "nobody")
	if !errdefs.IsNotFound(err) || err.Error() != "unable to find user nobody: no matching entries in passwd file" {
		t.Errorf("nobody: %v", err)
	}
	if _, err := ResolveUser(root, "app:nogroup"); !errdefs.IsNotFound(err) {
		t.Errorf("app:nogroup: %v", err)
	}
}

// TestResolveUserStaysInRoot: an image whose /etc/passwd links to the
// host's must not make the engine read the host's file.
func TestResolveUserStaysInRoot(t *testing.T) {
	root := newRootfs(t, nil)
	outside := filepath.Join(t.TempDir(), "passwd")
	if err := os.WriteFile(outside, []byte("evil:x:0:0::/evil:/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(root, "etc/passwd")); err != nil {
		t.Fatal(err)
	}
	if _, err := ResolveUser(root, "evil"); !errdefs.IsNotFound(err) {
		t.Errorf("resolved a user through a link out of the rootfs: %v", err)
	}
}
